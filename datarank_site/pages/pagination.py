"""A page found without counting: at a million papers, counting every row of a long list means
reading every row, only to print a number nobody needs exactly."""


class UncountedPage:
    """A page of an ordered queryset found without counting it: one row past the page says
    whether another follows. For lists as long as the whole corpus, where a count would read
    every row and "page 3 of 20,000" tells a visitor nothing the next link does not."""

    def __init__(self, object_list, *, number: int, per_page: int, skip: int | None = None) -> None:
        """`skip`: the rows of `object_list` before the page, when it already starts near the
        page (by default, every row of the earlier pages)."""
        offset = (number - 1) * per_page
        skip = offset if skip is None else skip
        rows = list(object_list[skip : skip + per_page + 1])
        self.object_list = rows[:per_page]
        self.number = number
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1
        self.start_index = offset + 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)
