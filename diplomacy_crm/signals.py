"""Signals sent by the one place records are written, for layers above to listen to.

`save_record` (diplomacy_crm.services) and `delete_record`
(diplomacy_crm.deletion) send them once per write, inside the write's
transaction, after the record, its many-to-many links and its history row
are written. A receiver that writes rows does so in the same transaction
(a rollback takes them too) and defers anything outward to
`transaction.on_commit`. Lower layers never import their listeners
(webhooks/ listens, see webhooks.apps).

record_saved    sender=model class; instance, created (bool), actor
record_deleted  sender=model class; instance (its pk kept), actor
records_saved   sender=model class; instances, created (bool), actor — a bulk write
                (diplomacy_crm.bulk): the same as record_saved for each instance
"""

from django.dispatch import Signal

record_saved = Signal()
record_deleted = Signal()
records_saved = Signal()
