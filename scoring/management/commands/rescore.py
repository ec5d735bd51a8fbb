from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.services import rescore_corpus


class Command(BaseCommand):
    help = "Score the whole corpus as one scoring run (ranks compare every paper with all the others)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--damping", type=float, help="d in (1 - d)·B + d·N; default DATARANK_DAMPING.")
        parser.add_argument("--cap", type=int, help="Citers kept per paper; default DATARANK_CITER_CAP.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Recompute every paper, not only those whose inputs changed since the current run.",
        )

    def handle(self, *args, damping: float | None, cap: int | None, full: bool, **options) -> None:
        if damping is not None and not 0 <= damping <= 1:
            raise CommandError(f"--damping must lie between 0 and 1, got {damping}.")
        if cap is not None and cap < 1:
            raise CommandError(f"--cap must be at least 1, got {cap}.")
        try:
            run = rescore_corpus(damping=damping, cap=cap, full=full)
        except Exception as exc:
            # The service has already recorded the run as failed; the current scores stand.
            message = f"Scoring failed ({type(exc).__name__}: {exc}); the previous run stays current."
            raise CommandError(message) from exc
        seconds = run.duration.total_seconds() if run.duration else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Scoring run {run.pk}: {run.papers_scored} papers scored in {seconds:.2f} s, "
                f"{run.papers_recomputed} of them recomputed (d={run.damping}, cap={run.citer_cap})."
            )
        )
