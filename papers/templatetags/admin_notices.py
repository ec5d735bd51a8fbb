from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def openalex_api_key_set() -> bool:
    """Live OpenAlex jobs run only with a key, so the admin says when there is none."""
    return bool(settings.OPENALEX_API_KEY)
