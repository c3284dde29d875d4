"""Hot-path decoders: msgspec Structs derived from the pydantic models, which stay the contract.

The pydantic models (:mod:`cchc_shared.events`, :mod:`cchc_shared.canonical`) are the one source
of every public schema — JSON Schema export, API models, docs. Checking an event with pydantic
costs ~5 µs; ingest, normalize and aggregate each do it for every event. Here each model is
turned, at import, into a msgspec Struct with the same fields, the same constraints (lengths,
patterns, bounds, literals, strictness, extra fields forbidden, aware timestamps) and the same
cross-field rules — the model's own ``@model_validator(mode="after")`` functions, called on the
Struct — and a discriminated union of models into a tagged union of Structs. Nothing is written
twice: a new field or a new schema in the union is picked up here without an edit. A model using
something this module cannot translate (a field validator, a ``before`` validator, a type it
does not know) fails at import, loudly, rather than being decoded less strictly.

:class:`HotDecoder` decides with msgspec. Only when msgspec says no does it ask pydantic, which
either rejects with its own field errors — so a dead letter carries exactly the reason and
locations it always did — or, where msgspec is the stricter of the two (an integer beyond 64 bits
in a number union, say), accepts with pydantic's model. The verdict is therefore always
pydantic's; ``tests/unit/shared/test_hotpath.py`` feeds generated and mutated events of every
schema in the union to both and requires the same verdict, the same reason and locations, and
the same values.

A Struct reads like its model (same attribute names; :func:`is_a` stands for ``isinstance``,
true for either); code on the hot path reads fields only (a Struct has no ``model_dump``).
:func:`encoder` writes a canonical Struct as JSON the pydantic model reads back to an equal
record.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Generic, Literal, TypeGuard, TypeVar, Union, cast

import annotated_types
import msgspec
from pydantic import AwareDatetime, BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

__all__ = [
    "HotDecoder",
    "encoder",
    "fields",
    "given",
    "is_a",
    "keys_at_least",
    "struct_of",
    "union_members",
]

M = TypeVar("M")
B = TypeVar("B", bound=BaseModel)

_UNSET: Any = msgspec.UNSET


def union_members(annotation: Any) -> tuple[tuple[type[BaseModel], ...], str]:
    """The models of a discriminated union ``Annotated[A | B, Field(discriminator=…)]`` and the
    discriminating field's name."""
    if typing.get_origin(annotation) is not Annotated:
        raise TypeError(f"not a discriminated union: {annotation!r}")
    inner, *extras = typing.get_args(annotation)
    discriminator = next(
        (e.discriminator for e in extras if isinstance(e, FieldInfo) and e.discriminator), None
    )
    if not isinstance(discriminator, str):
        raise TypeError(f"no string discriminator on {annotation!r}")
    members = typing.get_args(inner)
    if not members or not all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
        raise TypeError(f"union members are not models: {members!r}")
    return tuple(members), discriminator


def _constraints(metadata: list[Any], *, str_max: int | None) -> dict[str, Any]:
    """msgspec.Meta keyword arguments from pydantic field metadata."""
    meta: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, annotated_types.MinLen):
            meta["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            meta["max_length"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            meta["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            meta["le"] = item.le
        elif isinstance(item, annotated_types.Gt):
            meta["gt"] = item.gt
        elif isinstance(item, annotated_types.Lt):
            meta["lt"] = item.lt
        elif isinstance(item, FieldInfo):
            meta.update(_constraints(item.metadata, str_max=str_max))
        elif type(item).__name__ == "_PydanticGeneralMetadata":
            extra = dict(vars(item))
            if "pattern" in extra:
                meta["pattern"] = extra.pop("pattern")
            # left_to_right is how msgspec reads int | float | str anyway: a JSON integer is
            # an int, a JSON float a float, a JSON string a str.
            if extra.pop("union_mode", "left_to_right") != "left_to_right" or extra:
                raise TypeError(f"unsupported field constraint {item!r}")
        else:
            raise TypeError(f"unsupported field constraint {item!r}")
    return meta


# Seconds followed by a fraction of seven digits or more, anywhere in a payload.
# (A literal first character keeps the search at ~0.5 µs a payload; a class first costs 2 µs.)
_OVERPRECISE = re.compile(rb"\.[0-9]{7}")


class _Translator:
    """Pydantic annotations → msgspec ones, for the models of one config (strict or not)."""

    def __init__(self, model: type[BaseModel]) -> None:
        config = model.model_config
        self.strict = bool(config.get("strict"))
        # msgspec never reads inf or nan from JSON (a number beyond a double is an error), as
        # the raw models' allow_inf_nan=False; the canonical ones only read what normalize wrote.
        self.str_max: int | None = config.get("str_max_length")

    def type_of(self, annotation: Any, metadata: list[Any]) -> Any:
        """The msgspec type of a field with this annotation and metadata."""
        return self._bare(annotation, _constraints(metadata, str_max=self.str_max))

    def _bare(self, annotation: Any, meta: dict[str, Any]) -> Any:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            inner, *extras = typing.get_args(annotation)
            return self._bare(inner, {**_constraints(extras, str_max=self.str_max), **meta})
        if origin in (Union, types.UnionType):
            args = typing.get_args(annotation)
            # A constraint on the whole union (e.g. `str | None` with max_length) belongs to
            # its str member, as in pydantic.
            return Union[tuple(self._bare(a, meta if a is not type(None) else {}) for a in args)]  # noqa: UP007
        if origin is Literal:
            return annotation
        if annotation is type(None):
            return annotation
        if annotation is AwareDatetime:
            return Annotated[dt.datetime, msgspec.Meta(tz=True)]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return struct_of(annotation)
        if annotation is str:
            text = {k: v for k, v in meta.items() if k in ("min_length", "max_length", "pattern")}
            if "max_length" not in text and self.str_max is not None:
                text["max_length"] = self.str_max
            return Annotated[str, msgspec.Meta(**text)] if text else str
        if annotation in (int, float):
            bounds = {k: v for k, v in meta.items() if k in ("ge", "le", "gt", "lt")}
            if annotation is int:
                # JSON integers beyond int64 are left to pydantic (the fallback): orjson, ingest's
                # strict parser, refuses those beyond 64 bits, and msgspec alone would take them.
                bounds.setdefault("ge", -(2**63))
                bounds.setdefault("le", 2**63 - 1)
            return Annotated[annotation, msgspec.Meta(**bounds)] if bounds else annotation
        if annotation in (bool, dt.datetime, dt.date):
            return annotation
        raise TypeError(f"no msgspec translation for {annotation!r}")


def _after_validators(model: type[BaseModel]) -> list[Callable[[Any], Any]]:
    decorators = model.__pydantic_decorators__
    for kind in ("field_validators", "validators", "root_validators", "field_serializers"):
        if getattr(decorators, kind):
            raise TypeError(f"{model.__name__}: {kind} have no hot-path translation")
    found = []
    for decorator in decorators.model_validators.values():
        if decorator.info.mode != "after":
            raise TypeError(f"{model.__name__}: only mode='after' model validators translate")
        found.append(decorator.func)
    return found


def _constant(value: Any) -> property:
    def get(_: object) -> Any:
        return value

    return property(get)


@functools.cache
def struct_of(model: type[BaseModel], tag_field: str | None = None) -> type[msgspec.Struct]:
    """The msgspec Struct of `model`: same fields, constraints and after-validators.

    With `tag_field` (the discriminator of a union the model is in), that field — a Literal of
    one value — becomes the Struct's tag: required in the input, written in the output, and
    readable as an attribute (a property) as on the model.
    """
    translate = _Translator(model)
    fields: list[Any] = []
    namespace: dict[str, Any] = {"__model__": model}
    tag: str | None = None
    tag_name: str | None = None
    for name, info in model.model_fields.items():
        wire = info.alias or name
        if name == tag_field:
            values = typing.get_args(info.annotation)
            if typing.get_origin(info.annotation) is not Literal or len(values) != 1:
                raise TypeError(f"{model.__name__}.{name}: a tag is a Literal of one value")
            tag, tag_name = values[0], wire
            namespace[name] = _constant(values[0])
            continue
        kind = translate.type_of(info.annotation, info.metadata)
        if info.is_required():
            default: Any = msgspec.NODEFAULT
        elif info.default_factory is not None:
            raise TypeError(f"{model.__name__}.{name}: default factories do not translate")
        else:
            default = info.default
            if isinstance(default, str):
                # An equal string that is not the very object: msgspec hands out the Literal's
                # own object for a value given in the input, this copy for an absent one, so
                # keys_at_least() tells "given" from "absent".
                default = (default + ".")[:-1]
        fields.append((name, kind, msgspec.field(default=default, name=wire)))
    # Required fields first, as msgspec wants them; keyword construction and JSON by name
    # make the order irrelevant.
    fields.sort(key=lambda f: f[2].default is not msgspec.NODEFAULT)
    validators = _after_validators(model)
    if validators:

        def __post_init__(self: Any) -> None:
            for check in validators:
                check(self)

        namespace["__post_init__"] = __post_init__
    return msgspec.defstruct(
        f"{model.__name__}Struct",
        fields,
        namespace=namespace,
        module=__name__,
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=model.model_config.get("extra") == "forbid",
        omit_defaults=True,
        tag_field=tag_name,
        tag=tag,
    )


def is_a(value: object, model: type[B]) -> TypeGuard[B]:
    """``isinstance(value, model)``, true also for `model`'s Struct (pydantic refuses virtual
    subclasses, so a Struct cannot simply be registered)."""
    # The Struct test first: isinstance against a pydantic model goes through its ABCMeta
    # (2 % of normalize's CPU, py-spy).
    return getattr(type(value), "__model__", None) is model or isinstance(value, model)


@functools.cache
def _key_plan(struct: type[msgspec.Struct]) -> tuple[int, tuple[Any, ...], tuple[int, ...]]:
    """(keys always present, defaults of the optional fields, indices of nested Struct fields)."""
    names = struct.__struct_fields__
    defaults = struct.__struct_defaults__
    always = len(names) - len(defaults) + (struct.__struct_config__.tag is not None)
    hints = typing.get_type_hints(struct, include_extras=True)
    nested = tuple(
        i
        for i, name in enumerate(names)
        if any(
            isinstance(a, type) and issubclass(a, msgspec.Struct)
            for a in (hints[name], *typing.get_args(hints[name]))
        )
    )
    return always, defaults, nested


def keys_at_least(value: msgspec.Struct) -> int:
    """A lower bound on the distinct keys of the JSON object `value` was decoded from (nested
    objects' keys included): its tag, its required fields, and each optional field whose value
    is not the very default object (absent fields get that object). A field given with its
    default may count or not; a bound, never an over-count — so when the text has no more key
    occurrences than this, no key can have been repeated."""
    always, defaults, nested = _key_plan(type(value))
    values = msgspec.structs.astuple(value)
    count = always + sum(map(operator.is_not, values[len(values) - len(defaults) :], defaults))
    for i in nested:
        if isinstance(values[i], msgspec.Struct):
            count += keys_at_least(values[i])
    return count


@functools.cache
def _defaults(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.name: f.default for f in msgspec.structs.fields(struct)}


def given(value: object, name: str) -> bool:
    """``name in value.model_fields_set`` for a model; for a Struct, whether the field was in
    the input: an absent field holds the very default object :func:`struct_of` made for it (a
    string default is a copy no input hands out). A field given with a non-string default's
    value (None, a number) counts as absent."""
    if isinstance(value, BaseModel):
        return name in value.model_fields_set
    struct = cast(type[msgspec.Struct], type(value))
    return getattr(value, name) is not _defaults(struct).get(name, _UNSET)


def fields(value: object) -> dict[str, Any]:
    """A model's or a Struct's field values by field name (nested ones as dicts too): the same
    for a Struct and the model instance it stands for."""
    model = getattr(type(value), "__model__", type(value))
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"neither a model nor a Struct of one: {value!r}")
    out = {}
    for name in model.model_fields:
        item = getattr(value, name)
        is_record = isinstance(item, BaseModel) or hasattr(type(item), "__model__")
        out[name] = fields(item) if is_record else item
    return out


class HotDecoder(Generic[M]):
    """A discriminated union of models, decoded with msgspec; pydantic only when msgspec refuses.

    `validate_json` returns what ``TypeAdapter(union).validate_json`` returns — an instance that
    reads like the model — and raises pydantic's ``ValidationError`` for what it rejects.
    """

    def __init__(self, union: Any) -> None:
        members, discriminator = union_members(union)
        self.models = members
        self.structs = tuple(struct_of(m, discriminator) for m in members)
        self.adapter: TypeAdapter[M] = TypeAdapter(union)
        kind = functools.reduce(operator.or_, self.structs)
        strict = all(m.model_config.get("strict") for m in members)
        self._one = msgspec.json.Decoder(kind, strict=strict)

    def decode(self, payload: bytes) -> M:
        """msgspec alone: raises ``msgspec.ValidationError`` / ``DecodeError`` on a refusal."""
        if _OVERPRECISE.search(payload):
            # More than microseconds: msgspec rounds the fraction, pydantic truncates it (found
            # by the differential test). Left to pydantic, so both read the same instant.
            raise msgspec.ValidationError("a time fraction finer than microseconds")
        return cast(M, self._one.decode(payload))

    def validate_json(self, payload: bytes) -> M:
        """The value, or pydantic's ``ValidationError`` (the same verdict as the adapter's)."""
        try:
            return self.decode(payload)
        except msgspec.MsgspecError:
            return self.adapter.validate_json(payload)

    def struct(self, model: type[BaseModel]) -> type[msgspec.Struct]:
        """The Struct of one member (to build records of it, as normalize does)."""
        return self.structs[self.models.index(model)]


def encoder() -> Callable[[Any], bytes]:
    """JSON for canonical Structs: fields at their default are left out (the model fills them
    back in), as are absent optional ones."""
    return msgspec.json.Encoder().encode
