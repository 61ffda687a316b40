"""The fields of each record type: what the metadata catalog describes, what `q` may filter on,
and which body fields a write accepts (anything else is NONEXISTENT_FIELD).

The schema follows the shape NetSuite's metadata catalog returns for `application/schema+json`
(draft-06 hyper-schema): references are inline objects with id/refName/externalId/links, a sublist
is an object holding an `items` array, links are arrays of `$ref .../metadata-catalog/nsLink`,
`x-ns-filterable` lists the fields `q` accepts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ApiError
from .types import RECORD_TYPES, RecordType, resolve
from .values import RECORD_PATH, record_href

META_PATH = f"{RECORD_PATH}/metadata-catalog"


_Named = TypeVar("_Named", "Field", "Sublist")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string | number | integer | boolean | date | datetime | ref | enum
    ref: str | None = None  # referenced record type (ref fields)
    read_only: bool = False
    column: str | None = None  # SQL expression `q` filters on (None: not filterable)
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or re.sub(r"(?<!^)([A-Z])", r" \1", self.name).title()


@dataclass(frozen=True)
class Sublist:
    name: str
    fields: tuple[Field, ...]
    keys: tuple[str, ...]  # fields that identify a row on write (keyed sublist)
    title: str | None = None
    read_only: bool = False

    def field(self, name: str) -> Field | None:
        return _named(self.fields, name)


@dataclass(frozen=True)
class RecordSpec:
    fields: tuple[Field, ...]
    sublists: tuple[Sublist, ...] = ()
    accepted: frozenset[str] = field(default_factory=frozenset)  # accepted on write, not kept

    def field(self, name: str) -> Field | None:
        return _named(self.fields, name)

    def sublist(self, name: str) -> Sublist | None:
        return _named(self.sublists, name)

    def filterable(self) -> dict[str, Field]:
        return {f.name.lower(): f for f in self.fields if f.column}


def _named(items: tuple[_Named, ...], name: str) -> _Named | None:
    return next((item for item in items if item.name == name), None)


S, N, I, B, D, DT, R, E = "string", "number", "integer", "boolean", "date", "datetime", "ref", "enum"

# Subqueries used by q on transactions (alias t).
_MAIN_SUBSIDIARY = ("(SELECT tl.subsidiary FROM transactionline tl "
                    "WHERE tl.\"transaction\" = t.id AND tl.mainline = 'T')")


def _tran_common(entity_name: str | None) -> list[Field]:
    fields = [
        Field("id", S, read_only=True, column="t.id", title="Internal ID"),
        Field("tranId", S, column="t.tranid", title="Document Number"),
        Field("tranDate", D, column="t.trandate", title="Date"),
        Field("currency", R, "currency", column="t.currency"),
        Field("exchangeRate", N),
        Field("subsidiary", R, "subsidiary", column=_MAIN_SUBSIDIARY),
        Field("memo", S, column="t.memo"),
        Field("externalId", S, column="t.externalid", title="External ID"),
        Field("status", E, read_only=True, column="t.status"),
        Field("createdDate", DT, read_only=True, column="t.createddate", title="Date Created"),
        Field("lastModifiedDate", DT, read_only=True, column="t.lastmodifieddate", title="Last Modified"),
    ]
    if entity_name:
        fields.insert(1, Field(entity_name, R, "customer", column="t.entity", title="Customer"))
    return fields


_ITEM = Sublist("item", (
    Field("line", I, read_only=True),
    Field("amount", N),
    Field("description", S),
    Field("memo", S),
    Field("account", R, "account"),
), keys=("line",), title="Items")

_APPLY = Sublist("apply", (
    Field("doc", R, "transaction", title="Document"),
    Field("line", I),
    Field("apply", B),
    Field("amount", N, title="Payment"),
    Field("due", N, read_only=True, title="Amount Due"),
    Field("total", N, read_only=True, title="Original Amount"),
    Field("refNum", S, read_only=True, title="Ref No."),
    Field("type", S, read_only=True),
    Field("applyDate", D, read_only=True, title="Date"),
    Field("currency", S, read_only=True),
), keys=("doc", "line"), title="Apply")

# what a deposit's other and cash-back lines have in common
_DEPOSIT_LINE = (
    Field("line", I, read_only=True),
    Field("account", R, "account"),
    Field("amount", N),
    Field("memo", S),
)

_TRAN_ACCEPTED = frozenset({"customForm", "postingPeriod", "department", "class", "location",
                            "toBeEmailed", "toBePrinted", "toBeFaxed", "email"})

SPECS: dict[str, RecordSpec] = {
    "customer": RecordSpec(
        fields=(
            Field("id", S, read_only=True, column="c.id", title="Internal ID"),
            Field("entityId", S, column="c.entityid", title="Customer ID"),
            Field("companyName", S, column="c.companyname"),
            Field("isPerson", B, column="c.isperson", title="Type: Individual"),
            Field("email", S, column="c.email"),
            Field("phone", S, column="c.phone"),
            Field("currency", R, "currency", column="c.currency", title="Primary Currency"),
            Field("subsidiary", R, "subsidiary", column="c.subsidiary", title="Primary Subsidiary"),
            Field("parent", R, "customer", column="c.parent", title="Child Of"),
            Field("representingSubsidiary", R, "subsidiary", column="c.representingsubsidiary"),
            Field("terms", R, "term"),
            Field("creditLimit", N, column="c.creditlimit"),
            Field("balance", N, read_only=True, column="c.balancesearch"),
            Field("overdueBalance", N, read_only=True, column="c.overduebalancesearch"),
            Field("consolBalance", N, read_only=True, title="Consolidated Balance"),
            Field("isInactive", B, column="c.isinactive"),
            Field("externalId", S, column="c.externalid", title="External ID"),
            Field("dateCreated", DT, read_only=True, column="c.datecreated"),
            Field("lastModifiedDate", DT, read_only=True, column="c.lastmodifieddate", title="Last Modified"),
        ),
        sublists=(Sublist("currencyList", (Field("currency", R, "currency"),), keys=("currency",),
                          title="Currencies"),),
        accepted=frozenset({"customForm", "entityStatus", "category", "salesRep", "comments", "firstName",
                            "lastName", "url", "addressBook"}),
    ),
    "invoice": RecordSpec(
        fields=tuple(_tran_common("entity") + [
            Field("dueDate", D, column="t.duedate"),
            Field("account", R, "account", title="A/R Account"),
            Field("total", N, read_only=True, column="t.foreigntotal"),
            Field("amountPaid", N, read_only=True, column="t.foreignamountpaid"),
            Field("amountRemaining", N, read_only=True, column="t.foreignamountunpaid"),
            Field("intercompany", B, column="t.intercompany"),
            Field("terms", R, "term"),
        ]),
        sublists=(_ITEM,),
        accepted=_TRAN_ACCEPTED | {"otherRefNum", "salesRep"},
    ),
    "creditmemo": RecordSpec(
        fields=tuple(_tran_common("entity") + [
            Field("account", R, "account", title="A/R Account"),
            Field("total", N, read_only=True, column="t.foreigntotal"),
            Field("applied", N, read_only=True, column="t.foreignpaymentamountused"),
            Field("unapplied", N, read_only=True, column="t.foreignpaymentamountunused"),
            Field("intercompany", B, column="t.intercompany"),
        ]),
        sublists=(_ITEM, _APPLY),
        accepted=_TRAN_ACCEPTED | {"autoApply", "otherRefNum", "salesRep", "createdFrom"},
    ),
    "customerpayment": RecordSpec(
        fields=tuple(_tran_common("customer") + [
            Field("payment", N, column="t.foreigntotal", title="Payment Amount"),
            Field("total", N, read_only=True, title="To Apply"),
            Field("applied", N, read_only=True, column="t.foreignpaymentamountused"),
            Field("unapplied", N, read_only=True, column="t.foreignpaymentamountunused"),
            Field("account", R, "account"),
            Field("undepFunds", B, title="Undeposited Funds"),
            Field("autoApply", B),
        ]),
        sublists=(_APPLY,),
        accepted=_TRAN_ACCEPTED | {"paymentMethod", "paymentOption", "checkNum", "aRAcct", "payeeAddress"},
    ),
    "customerrefund": RecordSpec(
        fields=tuple(_tran_common("customer") + [
            Field("total", N, read_only=True, column="t.foreigntotal", title="Amount"),
            Field("account", R, "account"),
            Field("undepFunds", B, title="Undeposited Funds"),
        ]),
        sublists=(_APPLY,),
        accepted=_TRAN_ACCEPTED | {"paymentMethod", "refundMethod", "paymentOption", "checkNum", "aRAcct",
                                   "address", "deposit"},
    ),
    "deposit": RecordSpec(
        fields=tuple(_tran_common(None) + [
            Field("account", R, "account", title="Account"),
            Field("total", N, read_only=True, column="t.foreigntotal"),
        ]),
        sublists=(
            Sublist("payment", (
                Field("id", S, title="Internal ID"),
                Field("doc", R, "transaction", read_only=True, title="Document"),
                Field("deposit", B),
                Field("paymentAmount", N),
                Field("type", S, read_only=True),
                Field("docNumber", S, read_only=True),
                Field("refNum", S, read_only=True),
                Field("entity", R, "customer", read_only=True),
                Field("currency", S, read_only=True),
                Field("tranDate", D, read_only=True),
                Field("memo", S, read_only=True),
            ), keys=("id",), title="Payments"),
            Sublist("other", (*_DEPOSIT_LINE, Field("entity", R, "customer")), keys=("line",),
                    title="Other Deposits"),
            Sublist("cashBack", _DEPOSIT_LINE, keys=("line",), title="Cash Back"),
        ),
        accepted=_TRAN_ACCEPTED,
    ),
    "journalentry": RecordSpec(
        fields=tuple(_tran_common(None) + [
            Field("approved", B, read_only=True),
        ]),
        sublists=(Sublist("line", (
            Field("line", I, read_only=True),
            Field("account", R, "account"),
            Field("debit", N),
            Field("credit", N),
            Field("entity", R, "customer", title="Name"),
            Field("memo", S),
        ), keys=("line",), title="Lines"),),
        accepted=_TRAN_ACCEPTED | {"reversalDate", "reversalDefer", "isReversal", "approvalStatus"},
    ),
}


def spec(rt: RecordType) -> RecordSpec:
    return SPECS[rt.key]


def check_body(rt: RecordType, body: Any) -> None:
    """Refuse a body that is not an object or names a field the record does not have."""
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    sp = spec(rt)
    for name, value in body.items():
        if name == "links" or name in sp.accepted:
            continue
        if sp.field(name) is not None:
            continue
        sub = sp.sublist(name)
        if sub is None:
            raise _nonexistent(rt, name, name)
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("items", []), list):
            raise ApiError(400, "INVALID_CONTENT",
                           f"Invalid value for sublist {name}: expected an object with an items array.",
                           error_path=name)
        for key in value:
            if key not in ("items", "links", "totalResults", "count", "hasMore", "offset"):
                raise _nonexistent(rt, f"{name}.{key}", f"{name}.{key}")
        for i, item in enumerate(value.get("items", [])):
            if not isinstance(item, dict):
                raise ApiError(400, "INVALID_CONTENT", f"Invalid line in sublist {name}: expected an object.",
                               error_path=f"{name}.items[{i}]")
            for key in item:
                if key == "links" or sub.field(key) is not None or key in _LINE_ACCEPTED:
                    continue
                raise _nonexistent(rt, key, f"{name}.items[{i}].{key}")


_LINE_ACCEPTED = frozenset({"item", "quantity", "rate", "taxCode", "department", "class", "location",
                            "disc", "discAmt", "job"})


def _nonexistent(rt: RecordType, name: str, path: str) -> ApiError:
    return ApiError(400, "NONEXISTENT_FIELD",
                    f"Invalid field name: {name}. The field does not exist on the {rt.rest} record.",
                    error_path=path)


# ---- metadata catalog --------------------------------------------------------------------------

NS_LINK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rel": {"title": "Relationship", "type": "string", "readOnly": True},
        "href": {"title": "Hypertext Reference", "type": "string", "format": "uri", "readOnly": True},
    },
}


def _links_prop() -> dict[str, Any]:
    return {"title": "Links", "type": "array", "readOnly": True, "items": {"$ref": f"{META_PATH}/nsLink"}}


def _ref_schema(title: str, read_only: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": title, "type": "object", "nullable": True,
        "properties": {
            "id": {"title": "Internal identifier", "type": "string"},
            "refName": {"title": "Reference Name", "type": "string", "readOnly": True},
            "externalId": {"title": "External identifier", "type": "string"},
            "links": _links_prop(),
        },
    }
    if read_only:
        out["readOnly"] = True
    return out


def _field_schema(f: Field) -> dict[str, Any]:
    if f.kind in (R, E):
        out = _ref_schema(f.label, f.read_only)
        if f.kind == E:
            out["properties"]["id"]["readOnly"] = True
        return out
    out: dict[str, Any] = {"title": f.label}
    if f.kind == S:
        out.update(type="string", nullable=True)
    elif f.kind == N:
        out.update(type="number", format="double", nullable=True)
    elif f.kind == I:
        out.update(type="integer", format="int64", nullable=True)
    elif f.kind == B:
        out.update(type="boolean")
    elif f.kind == D:
        out.update(type="string", format="date", nullable=True)
    elif f.kind == DT:
        out.update(type="string", format="date-time", nullable=True)
    if f.read_only:
        out["readOnly"] = True
    return out


def _sublist_schema(sub: Sublist) -> dict[str, Any]:
    row = {
        "type": "object",
        "properties": {"links": _links_prop(), **{f.name: _field_schema(f) for f in sub.fields}},
        "x-ns-sublistkey": {"present": True, "value": {"new": list(sub.keys), "existing": list(sub.keys)}},
    }
    return {
        "title": sub.title or sub.name,
        "type": "object",
        "properties": {
            "links": _links_prop(),
            "items": {"title": "Items", "type": "array", "items": row},
            "totalResults": {"title": "Total Results", "type": "integer", "format": "int64", "readOnly": True},
        },
    }


def record_schema(rt: RecordType) -> dict[str, Any]:
    sp = spec(rt)
    props: dict[str, Any] = {"links": _links_prop()}
    for f in sp.fields:
        props[f.name] = _field_schema(f)
    for sub in sp.sublists:
        props[sub.name] = _sublist_schema(sub)
    return {
        "$schema": "http://json-schema.org/draft-06/hyper-schema#",
        "type": "object",
        "title": rt.display,
        "properties": props,
        "x-ns-filterable": [f.name for f in sp.fields if f.column],
    }


def _swagger(rt_list: list[RecordType]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rt in rt_list:
        schema = record_schema(rt)
        schema.pop("$schema", None)
        schemas[rt.key] = schema
        paths[f"/{rt.key}"] = {
            "get": {"summary": f"Get list of records.", "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 1000}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}}]},
            "post": {"summary": "Insert record.",
                     "requestBody": {"content": {"application/json": {
                         "schema": {"$ref": f"#/components/schemas/{rt.key}"}}}}},
        }
        paths[f"/{rt.key}/{{id}}"] = {
            "get": {"summary": "Get record."}, "patch": {"summary": "Update record."},
            "put": {"summary": "Insert or update record."}, "delete": {"summary": "Remove record."},
        }
    return {
        "openapi": "3.0.1",
        "info": {"title": "NetSuite REST Record API", "version": "v1"},
        "servers": [{"url": RECORD_PATH}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def metadata_catalog(record_type: str | None, *, base_url: str, accept: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    accept = (accept or "").lower()
    names = [n.strip() for n in (record_type or "").split(",") if n.strip()]
    if len(names) != 1:  # the whole catalog, or `?select=a,b`
        selected = [resolve(n) for n in names] if names else list(RECORD_TYPES.values())
        items = []
        for rt in selected:
            href = f"{base}{META_PATH}/{rt.key}"
            items.append({"name": rt.key, "links": [
                {"rel": "canonical", "href": record_href(base, rt.key), "mediaType": "application/json"},
                {"rel": "alternate", "href": href, "mediaType": "application/swagger+json"},
                {"rel": "describedby", "href": href, "mediaType": "application/schema+json"},
            ]})
        if "swagger" in accept:
            return _swagger(selected)
        return {"items": items, "links": [{"rel": "self", "href": f"{base}{META_PATH}"}]}
    name = names[0]
    if name.lower() == "nslink":
        return dict(NS_LINK_SCHEMA)
    rt = resolve(name)
    if "swagger" in accept:
        return _swagger([rt])
    return record_schema(rt)
