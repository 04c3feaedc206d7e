"""Alert notification: decide what to tell whom, queue it, deliver it, retry what failed.

`deliver` is what ``targetkit check --notify`` runs after an evaluation::

    settings = load_settings(plan_path)            # or load_settings(plan_path, "notify.toml")
    report = deliver(evaluation, settings, now=datetime.now(UTC), dry_run=False, out=sys.stdout)
    exit_code = 4 if report.failed else …

One run, under the state file's lock:

1. In one sqlite transaction, the stored alert records are read, `targetkit.state.decide` says
   which notices are due (new, changed, repeat, resolved), `route` assigns each to recipients,
   and the new records and the queued notices (the outbox) are written.
2. Every queued notice of the plan not yet delivered — this run's and any left by an earlier
   failed run — is grouped into one `Digest` per recipient and handed to a `Notifier`: SMTP
   email (`email.SmtpNotifier`), the local Maildir outbox (`maildir.MaildirNotifier`) when no
   SMTP server is configured, or a webhook (`webhook.WebhookNotifier`). A delivered notice is
   marked sent and never sent again; a failed one stays queued, with its error, for the next run.

A dry run does the same reading and deciding without the lock and without writing anything,
and prints each digest instead of sending it.

Silences (`silence`, `silences`, `unsilence`) are stored in the same state file, under the same
lock; with ``history_retention`` set, each run ends by pruning the history older than that
(`prune` does it on demand).

Where each part lives: `routing` (who gets which notice), `delivery` (the run and its report),
`silencing`, `pruning`, `history` (``targetkit alerts history``), `notifier` (the `Notifier`
protocol), and the notifiers `email`, `maildir` and `webhook`; `settings` reads ``[notify]``.
"""

from targetkit.alerts import Notice, NoticeKind, Silence
from targetkit.exceptions import StateError
from targetkit.notify.delivery import Attempt, DeliveryReport, deliver
from targetkit.notify.delivery import prune_line as prune_line
from targetkit.notify.digest import Digest, Message
from targetkit.notify.history import history_text
from targetkit.notify.notifier import Notifier
from targetkit.notify.pruning import prune
from targetkit.notify.routing import route
from targetkit.notify.settings import (
    NotifySettings,
    Route,
    SmtpSettings,
    WebhookSettings,
    load_settings,
    parse_settings,
)
from targetkit.notify.silencing import silence, silences, unsilence, who_from
from targetkit.state import PruneReport

__all__ = [
    "Attempt",
    "DeliveryReport",
    "Digest",
    "Message",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NotifySettings",
    "PruneReport",
    "Route",
    "Silence",
    "SmtpSettings",
    "StateError",
    "WebhookSettings",
    "deliver",
    "history_text",
    "load_settings",
    "parse_settings",
    "prune",
    "route",
    "silence",
    "silences",
    "unsilence",
    "who_from",
]
