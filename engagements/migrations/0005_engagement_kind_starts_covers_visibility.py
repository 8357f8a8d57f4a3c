"""The kind index carries confidentiality and id: a non-officer's count of one kind reads the index only."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('engagements', '0004_commitment_open_due_covers_owner'),
        ('partners', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='engagement',
            name='engagement_kind_starts',
        ),
        migrations.AddIndex(
            model_name='engagement',
            index=models.Index(fields=['kind', 'starts_at'], include=('confidentiality', 'id'), name='engagement_kind_starts'),
        ),
    ]
