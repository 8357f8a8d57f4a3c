from django.conf import settings
from django.db import models


class VersionedModel(models.Model):
    """A `version` that every write of the row increments, in the database.

    Saving an existing row sets `version = version + 1` in the UPDATE itself
    (an F() expression, read back through RETURNING), so two writers can
    never both produce the same version, whoever calls save(): the services,
    the back office, a restore. A new row starts at 1. `save(update_fields=…)`
    always adds the version. The edit forms send back the version they showed
    and the API's If-Match names one; diplomacy_crm.services.save_record
    compares it with the row's current version under a row lock (see there).
    """

    version = models.PositiveIntegerField(
        default=1, db_default=1, editable=False, help_text="Incremented by every write."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            return super().save(*args, **kwargs)
        previous = self.version
        self.version = models.F("version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.version = previous
            raise
        if hasattr(self.version, "resolve_expression"):  # a backend without UPDATE … RETURNING
            self.refresh_from_db(fields=["version"])


class TimeStampedModel(models.Model):
    """created_at / updated_at; `save(update_fields=…)` of a row stamps updated_at too."""

    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is not None and not self._state.adding:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        return super().save(*args, **kwargs)


class RecordModel(VersionedModel, TimeStampedModel):
    """A core record (partner, contact, agreement, engagement, mission, commitment, gift): timestamps and a version."""

    class Meta:
        abstract = True


class SubmitToken(models.Model):
    """A create form's one-time token, claimed in the transaction that creates the record.

    The primary key makes the claim unique: a second POST of the same form,
    even one racing the first, cannot claim it again and is sent to `url`,
    the record the first one created (diplomacy_crm.services.create_once).
    """

    token = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.token} → {self.url}"
