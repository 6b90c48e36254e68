"""``Resource``'s written-out ``__init__`` is the one ``dataclasses`` would make from its fields."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from ciiguard.model import Location, RegionInfo, Resource, evolve

REQUIRED = dict(
    address="aws_s3_bucket.b",
    type="aws_s3_bucket",
    name="b",
    provider="aws",
    provider_config="aws",
    region=RegionInfo("cn-north-1"),
    location=Location.UNKNOWN,
    tags={"data-classification": "personal"},
    attributes={"bucket": "b"},
    file="main.tf",
    line=1,
    input="terraform",
)


def test_init_takes_every_field_in_order_with_the_fields_defaults() -> None:
    params = list(inspect.signature(Resource.__init__).parameters.values())[1:]
    fields = dataclasses.fields(Resource)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default, f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert p.default is None, f.name  # a fresh value per instance, made in __init__
        else:
            assert p.default is inspect.Parameter.empty, f.name


def test_init_sets_what_the_generated_one_sets() -> None:
    """Against a data class made by ``dataclasses`` from the same fields."""
    spec = []
    for f in dataclasses.fields(Resource):
        if f.default_factory is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default_factory=f.default_factory)))
        else:
            spec.append((f.name, f.type, dataclasses.field(default=f.default)))
    generated = dataclasses.make_dataclass("Generated", spec, frozen=True)
    optional = dict(in_scope=True, flows=(), module="module.m", meta={"end_line": 3})
    for given in (REQUIRED, {**REQUIRED, **optional}):
        mine, theirs = Resource(**given), generated(**given)
        assert vars(mine) == vars(theirs)
        assert list(vars(mine)) == list(vars(theirs))  # field order, as the generated one sets them
    a, b = Resource(**REQUIRED), Resource(**REQUIRED)
    assert a.meta == {} and a.meta is not b.meta  # default_factory: one dictionary each


def test_the_written_init_keeps_the_data_class_behaviour() -> None:
    r = Resource(**REQUIRED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.address = "x"  # type: ignore[misc]
    assert dataclasses.replace(r, line=7) == evolve(r, line=7)
    assert dataclasses.replace(r, line=7).line == 7
    assert pickle.loads(pickle.dumps(r)) == r
    with pytest.raises(TypeError):
        Resource(**{**REQUIRED, "colour": "blue"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Resource(address="a")  # type: ignore[call-arg]
