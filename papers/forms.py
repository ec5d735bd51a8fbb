from django import forms

MAX_QUERY_LENGTH = 300


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search titles",
        required=False,
        strip=True,
        max_length=MAX_QUERY_LENGTH,
        error_messages={
            "max_length": (
                f"A search can be at most {MAX_QUERY_LENGTH} characters long "
                "(yours has %(show_value)d). Try a few distinctive words from the title."
            )
        },
    )
