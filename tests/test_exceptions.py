from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import strategies as S
else:
    from tests import strategies as S


def test_x() -> None:
    assert S.ids("A") is not None
