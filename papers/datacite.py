"""The one DataCite client, and the DOI registration-agency lookup (doi.org/ra).

What it owes its callers (the FAIR evaluation service):

- A 404 from DataCite is an answer, not a failure: most papers have Crossref DOIs, which
  DataCite does not hold. `get_doi` returns None for it.
- Failures sorted two ways, as in the OpenAlex client: `TransientError` (timeouts, dropped
  connections, 5xx, 429, broken bodies; retried through `papers.http` a few times with capped,
  fully jittered backoff, then raised so the caller can say "could not check" and retry later) and
  `PermanentError` (the request itself is wrong).
- Typed results: the metadata the FAIR metrics read (`papers.models.DataCiteFacts`).

One client per thread: it keeps a `requests.Session`.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from papers import http
from papers.models import Creator, DataCiteFacts, PointingRecord, RelatedIdentifier, Rights
from papers.openalex.records import normalize_doi

# The reverse query's page: enough to show and to find datasets; the total comes from meta.
POINTING_PAGE_SIZE = 100


class DataCiteError(Exception):
    """Anything DataCite or doi.org did not answer with the data asked for."""


class TransientError(DataCiteError, http.TransientError):
    """Worth trying again later: 5xx, 429, timeouts, dropped connections, broken bodies."""


class PermanentError(DataCiteError, http.PermanentError):
    """The request itself is wrong (400, say); a 404 is no error here but an answer."""


@dataclass(frozen=True)
class Pointing:
    """The DataCite records whose relatedIdentifiers name a DOI: the first page, and how many there are."""

    total: int
    records: tuple[PointingRecord, ...]


class DataCiteClient(http.Transport):
    def __init__(
        self,
        *,
        base_url: str | None = None,
        ra_url: str | None = None,
        timeout: float | tuple[float, float] = (3, 10),
        max_retries: int = 2,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 0.5,
        backoff_cap: float = 10.0,
    ) -> None:
        self.base_url = (settings.DATACITE_API_URL if base_url is None else base_url).rstrip("/")
        self.ra_url = (settings.DOI_RA_URL if ra_url is None else ra_url).rstrip("/")
        super().__init__(
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            sleep=sleep,
            session=session,
        )

    # Reference: https://support.datacite.org/reference/get_dois-id
    def get_doi(self, doi: str) -> DataCiteFacts | None:
        """The DataCite record of a DOI, or None when DataCite holds none (a Crossref DOI, say)."""
        bare = normalize_doi(doi)
        body = self._get(f"{self.base_url}/dois/{quote(bare, safe='/')}", {}, accept="application/vnd.api+json")
        if body is None:
            return None
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping):
            raise TransientError("DataCite answered a DOI without `data`")
        return parse_record(data, doi=bare)

    # Reference: https://support.datacite.org/docs/api-queries (field queries on relatedIdentifiers)
    def records_pointing_at(self, doi: str) -> Pointing:
        """The DataCite records whose relatedIdentifiers name this DOI (first page), and their total."""
        bare = normalize_doi(doi)
        params = {
            "query": f'relatedIdentifiers.relatedIdentifier:"{bare}"',
            "page[size]": str(POINTING_PAGE_SIZE),
        }
        body = self._get(f"{self.base_url}/dois", params, accept="application/vnd.api+json")
        if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
            raise TransientError("DataCite answered a query without a `data` list")
        records = []
        for item in body["data"]:
            if not isinstance(item, Mapping):
                continue
            record = parse_record(item, doi=str(item.get("id") or ""))
            relations = tuple(related.relation_type for related in record.related if related.identifier.lower() == bare)
            records.append(PointingRecord(record.doi, record.resource_type_general, relations))
        meta = body.get("meta")
        total = meta.get("total") if isinstance(meta, Mapping) else None
        return Pointing(total=total if isinstance(total, int) else len(records), records=tuple(records))

    # Reference: https://www.doi.org/the-identifier/resources/factsheets/doi-resolution-documentation
    def registration_agency(self, doi: str) -> str:
        """doi.org's registration agency for a DOI ("DataCite", "Crossref", …); "" for a DOI it does not know."""
        bare = normalize_doi(doi)
        body = self._get(f"{self.ra_url}/{quote(bare, safe='/')}", {}, accept="application/json")
        if body is None:
            return ""
        if not isinstance(body, list) or not body or not isinstance(body[0], Mapping):
            raise TransientError("doi.org/ra answered without a list of agencies")
        agency = body[0].get("RA")
        # An unknown DOI comes back as {"DOI": …, "status": "DOI does not exist"}.
        return agency if isinstance(agency, str) else ""

    def _get(self, url: str, params: dict[str, str], *, accept: str) -> Any:
        """The JSON body, or None for a 404; retries transient failures."""
        return self.retrying(lambda: self._attempt(url, params, accept=accept))

    def _attempt(self, url: str, params: dict[str, str], *, accept: str) -> Any:
        try:
            response = self.send(url, params, headers={"Accept": accept})
        except requests.Timeout as error:
            raise TransientError(f"{_host(url)} did not answer in time") from error
        except http.DROPPED as error:
            raise TransientError(f"{_host(url)} could not be reached") from error
        status = response.status_code
        if status == 404:
            return None
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise TransientError(f"{_host(url)} answered with a body that is not JSON") from None
        if status == 429 or status >= 500:
            raise TransientError(f"{_host(url)} answered {status}")
        raise PermanentError(f"{_host(url)} answered {status} for {url}", status=status)


def _host(url: str) -> str:
    return "DataCite" if "/dois" in url else "doi.org/ra"


def parse_record(data: Mapping, *, doi: str) -> DataCiteFacts:
    """A JSON:API resource of type "dois" to the facts the metrics read; missing or odd fields
    read as absent, since one odd field must not cost the whole record."""
    attributes = data.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    types = _mapping(attributes.get("types"))
    publisher = attributes.get("publisher")
    # `publisher` is a string, or an object with `name` when asked with ?publisher=true.
    publisher_name = _text(publisher.get("name")) if isinstance(publisher, Mapping) else _text(publisher)
    year = attributes.get("publicationYear")
    return DataCiteFacts(
        doi=(_text(attributes.get("doi")) or doi).lower(),
        resource_type_general=_text(types.get("resourceTypeGeneral")),
        resource_type=_text(types.get("resourceType")),
        titles=tuple(_text(item.get("title")) for item in _objects(attributes.get("titles")) if item.get("title")),
        creators=tuple(
            Creator(
                name=_text(item.get("name")),
                identifiers=tuple(
                    _text(ident.get("nameIdentifier"))
                    for ident in _objects(item.get("nameIdentifiers"))
                    if ident.get("nameIdentifier")
                ),
            )
            for item in _objects(attributes.get("creators"))
        ),
        publisher=publisher_name,
        publication_year=int(year) if isinstance(year, int) or (isinstance(year, str) and year.isdigit()) else None,
        subjects=tuple(
            (_text(item.get("subject")), _text(item.get("subjectScheme")))
            for item in _objects(attributes.get("subjects"))
            if item.get("subject")
        ),
        dates=tuple(
            (_text(item.get("date")), _text(item.get("dateType")))
            for item in _objects(attributes.get("dates"))
            if item.get("date")
        ),
        descriptions=tuple(
            (_text(item.get("description")), _text(item.get("descriptionType")))
            for item in _objects(attributes.get("descriptions"))
        ),
        related=tuple(
            RelatedIdentifier(
                relation_type=_text(item.get("relationType")),
                identifier=_text(item.get("relatedIdentifier")),
                identifier_type=_text(item.get("relatedIdentifierType")),
                resource_type_general=_text(item.get("resourceTypeGeneral")),
            )
            for item in _objects(attributes.get("relatedIdentifiers"))
            if item.get("relatedIdentifier")
        ),
        rights=tuple(
            Rights(
                rights=_text(item.get("rights")),
                rights_uri=_text(item.get("rightsUri")),
                rights_identifier=_text(item.get("rightsIdentifier")),
            )
            for item in _objects(attributes.get("rightsList"))
        ),
        formats=tuple(_text(item) for item in attributes.get("formats") or () if isinstance(item, str)),
        url=_text(attributes.get("url")),
    )


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
