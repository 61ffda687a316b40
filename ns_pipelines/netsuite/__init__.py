"""The NetSuite client: the same code talks to a production account and to the local sandbox.

    from ns_pipelines.netsuite import NetSuiteClient, NetSuiteConfig, KeysetQuery, RowDecoder

    client = NetSuiteClient(NetSuiteConfig.from_env())
    for row in client.suiteql.query_keyset(KeysetQuery("c.id, c.entityid", "customer c", key="c.id")):
        ...
    payment_id = client.records.upsert("customerPayment", "stripe:ch_123", body)
"""
from .auth import NetSuiteAuth, OAuth2ClientCredentials, TokenBasedAuth, build_auth
from .config import AuthMethod, NetSuiteConfig, RetryPolicy, default_base_url, host_slug, realm_of
from .decoding import DateFormat, Kind, RowDecoder, decode_rows
from .errors import (
    RECONNECT_INSTRUCTIONS,
    AuthenticationError,
    ConcurrencyLimitError,
    DecodeError,
    ErrorDetail,
    InvalidRequestError,
    NetSuiteConfigError,
    NetSuiteError,
    PermissionDeniedError,
    RecordNotFoundError,
    ServerError,
    SuiteQLRowCapError,
    TransportError,
    error_from_response,
    parse_error_body,
)
from .records import RecordRef, RecordService, external_ref
from .suiteql import (
    ROW_CAP,
    IdRange,
    KeysetQuery,
    Page,
    SuiteQL,
    TemplateKeysetQuery,
    keyset_pages,
    split_range,
)
from .transport import ClientStats, ConcurrencyLimiter, NetSuiteClient, RequestEvent, RequestHook

__all__ = [
    "AuthMethod", "AuthenticationError", "ClientStats", "ConcurrencyLimitError", "ConcurrencyLimiter",
    "DateFormat", "DecodeError", "ErrorDetail", "IdRange", "InvalidRequestError", "KeysetQuery", "Kind",
    "NetSuiteAuth", "NetSuiteClient", "NetSuiteConfig", "NetSuiteConfigError", "NetSuiteError",
    "OAuth2ClientCredentials", "Page", "PermissionDeniedError", "RECONNECT_INSTRUCTIONS", "ROW_CAP",
    "RecordNotFoundError", "RecordRef", "RecordService", "RequestEvent", "RequestHook", "RetryPolicy",
    "RowDecoder", "ServerError", "SuiteQL", "SuiteQLRowCapError", "TemplateKeysetQuery",
    "TokenBasedAuth", "TransportError", "build_auth", "decode_rows", "default_base_url",
    "error_from_response", "external_ref", "host_slug", "keyset_pages", "parse_error_body", "realm_of",
    "split_range",
]
