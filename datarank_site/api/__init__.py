"""The read-only JSON API, /api/v1/ (django-ninja): papers, their citers, search, the ranking and
the scoring runs, every answer a typed schema that the OpenAPI document at /api/v1/openapi.json
says exactly. It reads both apps through the pages' own code (find_paper, the citers, the search
and ranking forms), so the API, the pages and `scores --format csv` give the same figures."""
