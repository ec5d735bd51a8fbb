from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The public site, on top of the corpus (papers) and its numbers (scoring); no models."""

    name = "datarank_site.pages"
    label = "pages"
