"""Generation jobs: batches sent by a process-wide runner, beside the page rather than inside it."""

from studio.jobs.janitor import INTERRUPTED_MESSAGE, interrupt_abandoned
from studio.jobs.model import CredentialSource, ImageState, ImageView, JobView
from studio.jobs.runner import CANCELLED_MESSAGE, JobRunner, RunnerLimits

__all__ = ["CANCELLED_MESSAGE", "INTERRUPTED_MESSAGE", "CredentialSource", "ImageState", "ImageView", "JobRunner",
           "JobView", "RunnerLimits", "interrupt_abandoned"]
