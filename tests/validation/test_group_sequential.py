"""Bad input to group-sequential designs raises neyman's exceptions naming the argument."""

from __future__ import annotations

import neyman
import pytest
from neyman.errors import InputError, InputTypeError


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"information_fractions": [0.5, 0.4, 1.0]}, "look 3|increase"),
        ({"information_fractions": [0.5, 0.9]}, "end at 1"),
        ({"information_fractions": [0.0, 1.0]}, "look 1"),
        ({"information_fractions": [-0.2, 1.0]}, "look 1"),
        ({"information_fractions": [0.5, 1.2]}, "end at 1"),
        ({"information_fractions": 0}, "information_fractions"),
        ({"information_fractions": 3, "alpha": 1.5}, "alpha"),
        ({"information_fractions": 3, "alpha": 0.0}, "alpha"),
        ({"information_fractions": 3, "power": 1.0}, "power"),
        ({"information_fractions": 3, "spending": "nope"}, "spending"),
        ({"information_fractions": 3, "spending": "hsd"}, "gamma"),
        ({"information_fractions": 3, "spending": "power"}, "rho"),
        ({"information_fractions": 3, "spending": "power", "rho": -1}, "rho"),
        ({"information_fractions": 3, "alternative": "both"}, "alternative"),
        ({"information_fractions": 3, "futility": "pocock"}, "one-sided"),
        (
            {"information_fractions": 3, "alternative": "greater", "futility": "hsd"},
            "futility_gamma",
        ),
        ({"information_fractions": 3, "alternative": "greater", "futility": "x"}, "futility"),
    ],
)
def test_bad_design(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        neyman.GroupSequentialDesign(**kwargs)


def test_bad_types() -> None:
    with pytest.raises(InputTypeError, match="alpha"):
        neyman.GroupSequentialDesign(3, alpha="0.05")  # type: ignore[arg-type]
    with pytest.raises(InputTypeError, match="information_fractions"):
        neyman.GroupSequentialDesign(["a", "b"])


def test_bad_bounds_and_test() -> None:
    d = neyman.GroupSequentialDesign(3)
    with pytest.raises(InputError, match="look 2"):
        d.bounds([0.5, 0.5])
    with pytest.raises(InputError, match="z_statistics"):
        d.test([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(InputError, match="look 2"):
        d.test([1.0, float("nan")])
    c = neyman.GroupSequentialDesign(3, spending="classical-pocock")
    with pytest.raises(InputError, match="spending"):
        c.bounds([0.3, 1.0])


def test_bad_msprt_power() -> None:
    with pytest.raises(InputError, match="alpha"):
        neyman.msprt_power(2.0, 10, alpha=2.0)
    with pytest.raises(InputError, match="mixing_variance"):
        neyman.msprt_power(2.0, 10, mixing_variance=-1.0)
    with pytest.raises(InputError, match="look 2"):
        neyman.msprt_power(2.0, [0.5, 0.2, 1.0])


def test_bad_sequential_power() -> None:
    d = neyman.GroupSequentialDesign(3, power=0.9)
    with pytest.raises(InputError, match="sequential"):
        neyman.power(effect=0.1, sd=1.0, n=None, power=0.9, alpha=0.01, sequential=d)
    with pytest.raises(InputError, match="sequential"):
        neyman.power(effect=0.1, sd=1.0, n=None, power=0.8, sequential=d)
    with pytest.raises(InputError, match="sequential"):
        neyman.power(effect=0.1, sd=1.0, n=100, power=0.8, alpha=None, sequential=d)
    with pytest.raises(InputTypeError, match="sequential"):
        neyman.power(effect=0.1, sd=1.0, n=None, power=0.9, sequential="obf")
