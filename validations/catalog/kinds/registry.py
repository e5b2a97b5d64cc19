"""The registry of rule kinds: each kind registered once, with all a check of it needs.

Modelled on pandera's `register_builtin_check`: a decorator on the kind's one function records it
under the function's name, with the facets the rest of the service asks for. The catalog's list
of known kinds is this registry (validations/catalog/load.py); the validator, the pandera
schemas (validations/rules.py) and the error localisation (validations/localise/) ask it, so
that a new kind is one function and its catalog entry.

A kind runs at one *stage* of validation:
- `header`, `rows`, `values`: the intake steps of the validator (the file's unit and period,
  its rows, its cells read as numbers). Their logic is the validator's own reading of a file;
  the registry declares them (every catalog names the rule each one reports under);
- `long`: a domain rule over the long frame, one row per value (columns sub, indicator, kind,
  value, min, max, ceiling, location). The function is the vectorised pass (True where the value
  passes or the rule does not apply); `applies` says which values it checks, `expected` the
  Issue's expected text for a failing row, `bounds` what it demands of one indicator's values
  as a domain (lower and upper bound, whole number) for the localisation;
- `wide`: a rule relating indicators over the wide frame, one row per submission and one
  column per indicator. The function compiles one catalog rule into its checks (RuleCheck: a
  rule of kind rate_consistency gives one per rate of its formula), each carrying its pass
  function, what it applies to, the Issue it reports and its linear constraints;
- `warehouse`: checked against the warehouse by the ingest (previous_year).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from validations.catalog.kinds.check import Finding, RuleCheck

if TYPE_CHECKING:
    from validations.catalog.kinds.check import Bounds
    from validations.catalog.model import Catalog, Indicator, Rule

STAGES = ("header", "rows", "values", "long", "wide", "warehouse")

# entry -> the Rule's kind-specific fields (left, op, right, when; any other goes to params);
# raises validations.catalog.entry.EntryError with what is wrong (the loader adds the file and the entry)
Parse = Callable[[dict[str, Any], set[str]], dict[str, Any]]


@dataclass(frozen=True)
class RuleKind:
    """One kind of rule and everything a check of that kind needs."""

    name: str
    stage: str
    doc: str = ""
    required: bool = False  # every catalog must hold a rule of this kind (a built-in step uses it)
    keys: frozenset[str] = (
        frozenset()
    )  # catalog keys of a rule of this kind, beyond the common ones
    # placeholders its messages may hold beyond the common ones ({label}, {value}, ...): what
    # its Findings' `fields` fill; the catalog refuses any other when it loads
    fields: frozenset[str] = frozenset()
    parse: Parse | None = None
    # long: the pass over the long frame, which values it checks, the expected text, the domain
    passes: Callable[[Any], Any] | None = None
    applies: Callable[[Any], Any] | None = None
    expected: Callable[[Any], str | None] | None = None
    bounds: Callable[[Indicator], Bounds | None] | None = None
    # wide: one rule -> its checks
    compile: Callable[[Rule, Catalog], list[RuleCheck]] | None = None

    def checks(self, rule: Rule, catalog: Catalog) -> list[RuleCheck]:
        """The checks one catalog rule of this kind compiles to (none for intake kinds, whose
        checks are the validator's own steps)."""
        if self.compile is not None:
            return list(self.compile(rule, catalog))
        if self.passes is None or self.applies is None:
            return []
        expected = self.expected

        def finding(row: Any) -> Finding:
            return Finding(
                indicator=row["indicator"],
                value=float(row["value"]),
                expected=expected(row) if expected else None,
            )

        return [RuleCheck(rule.id, rule, None, self.passes, self.applies, finding)]


_KINDS: dict[str, RuleKind] = {}


def register_rule_kind(
    fn: Callable[..., Any] | None = None,
    *,
    stage: str,
    name: str | None = None,
    doc: str | None = None,
    required: bool = False,
    keys: tuple[str, ...] | frozenset[str] = (),
    parse: Parse | None = None,
    applies: Callable[[Any], Any] | None = None,
    expected: Callable[[Any], str | None] | None = None,
    bounds: Callable[[Indicator], Bounds | None] | None = None,
    fields: tuple[str, ...] | frozenset[str] | None = None,
) -> Any:
    """Register a rule kind; used as a decorator on the kind's function.

    `stage="long"`: the function is the pass over the long frame (True where the value passes
    or the rule does not apply), with `applies` (which rows it checks), `expected` (a failing
    row -> the Issue's expected text) and `bounds` (an indicator -> the domain it demands).
    `stage="wide"`: the function compiles a catalog rule into its RuleChecks.
    `fields`: the placeholders its messages may hold beyond the common ones (what its
    Findings' `fields` fill): a catalog message with any other is refused when it loads.
    The kind is named after the function (or `name`). Registering a name twice is an error
    (use `unregistered` in tests)."""
    if fn is None:
        return lambda f: register_rule_kind(
            f,
            stage=stage,
            name=name,
            doc=doc,
            required=required,
            keys=keys,
            parse=parse,
            applies=applies,
            expected=expected,
            bounds=bounds,
            fields=fields,
        )
    if stage not in STAGES:
        raise ValueError(f"stage '{stage}' is not one of {', '.join(STAGES)}")
    kind = name or fn.__name__
    if stage == "long" and applies is None:
        raise ValueError(f"rule kind '{kind}': a long kind says which values it checks (applies)")
    add_rule_kind(
        RuleKind(
            name=kind,
            stage=stage,
            doc=doc if doc is not None else (fn.__doc__ or "").strip(),
            required=required,
            keys=frozenset(keys),
            fields=frozenset(fields or ()),
            parse=parse,
            passes=fn if stage == "long" else None,
            applies=applies,
            expected=expected,
            bounds=bounds,
            compile=fn if stage == "wide" else None,
        )
    )
    return fn


def declare_rule_kind(name: str, stage: str, doc: str, required: bool = True) -> None:
    """A kind whose check is a step of the validator's intake (header, rows, values) or of the
    ingest (warehouse): declared here so that the catalog knows it."""
    if stage not in STAGES or stage in ("long", "wide"):
        raise ValueError(f"rule kind '{name}': declare only intake or warehouse kinds")
    add_rule_kind(RuleKind(name=name, stage=stage, doc=doc, required=required))


def add_rule_kind(kind: RuleKind) -> None:
    if kind.name in _KINDS:
        raise ValueError(f"rule kind '{kind.name}' is already registered")
    _KINDS[kind.name] = kind


def remove_rule_kind(name: str) -> None:
    _KINDS.pop(name, None)


@contextmanager
def unregistered(*names: str) -> Iterator[None]:
    """Remove these kinds when the block ends (a test registers a kind of its own)."""
    try:
        yield
    finally:
        for n in names:
            remove_rule_kind(n)


def rule_kind(name: str) -> RuleKind:
    return _KINDS[name]


def rule_kinds(stage: str | None = None) -> dict[str, RuleKind]:
    """The registered kinds (of one stage), in registration order."""
    return {k: v for k, v in _KINDS.items() if stage is None or v.stage == stage}


def catalog_checks(catalog: Catalog, stage: str) -> list[RuleCheck]:
    """Every check the catalog's rules of the kinds of one stage ("long", "wide") compile to,
    kind by kind in the registry's order, rules in the catalog's order."""
    out: list[RuleCheck] = []
    for kind in rule_kinds(stage).values():
        for rule in catalog.rules_of_kind(kind.name):
            out.extend(kind.checks(rule, catalog))
    return out


def rule_keys() -> frozenset[str]:
    """Every kind-specific key a rule entry may hold."""
    out: set[str] = set()
    for k in _KINDS.values():
        out |= k.keys
    return frozenset(out)
