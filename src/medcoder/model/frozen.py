"""``quick_init``: the same ``__init__`` as a frozen, slotted dataclass's, filling the slots directly.

Why: the model's records are frozen dataclasses, so a stage can hand them on (and memoise them) without a
copy. A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__`` (a global
look-up, an attribute look-up and a call per field), and the claim edits and pricers build a dozen records per
claim: construction was a sixth of checking and pricing a claim. The replacement takes the same keyword
arguments, defaults and default factories and calls ``__post_init__`` the same way, but stores each field with
its slot's own setter (the member descriptor's ``__set__``, bound once per class): about a third cheaper. The
class stays what ``@dataclass`` made it (frozen ``__setattr__``, ``__eq__``, ``__hash__``, ``__repr__``,
``dataclasses.replace``), and mypy still reads the ``@dataclass`` below the decorator.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, cast

__all__ = ["quick_init"]

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted, keyword-only dataclass ``cls`` an ``__init__`` that fills its slots directly.

    Raises TypeError for a class this does not fit (not a dataclass, not slotted, positional parameters,
    ``InitVar`` pseudo-fields), so a wrong use fails at import, not with a half-built object."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"quick_init needs a frozen dataclass with slots=True, not {cls.__qualname__}")
    namespace: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    signature: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cast(Any, cls)):
        if f.init and not f.kw_only:
            raise TypeError(f"quick_init needs keyword-only fields; {cls.__qualname__}.{f.name} is positional")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            value = f.name if f.init else f"_default_{f.name}"
            signature += [f"{f.name}=_default_{f.name}"] if f.init else []
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            value = (f"_factory_{f.name}() if {f.name} is _MISSING else {f.name}" if f.init
                     else f"_factory_{f.name}()")
            signature += [f"{f.name}=_MISSING"] if f.init else []
        elif f.init:
            value = f.name
            signature.append(f.name)
        else:
            continue  # init=False without a default: left for __post_init__, as the dataclass does
        body.append(f"    _set_{f.name}(self, {value})")
    if any("InitVar" in str(v) for v in getattr(cls, "__annotations__", {}).values()):
        raise TypeError(f"quick_init does not support InitVar fields ({cls.__qualname__})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, *, {', '.join(signature)}):\n" if signature else "def __init__(self):\n"
    exec(source + ("\n".join(body) or "    pass") + "\n", namespace)  # noqa: S102 - generated from the fields
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - replacing the generated method
    return cls
