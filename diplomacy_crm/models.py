from django.db import models


class TimeStampedModel(models.Model):
    """created_at / updated_at on every core record."""

    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True
