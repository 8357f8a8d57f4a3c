"""The open-commitments index carries the owner, so that the hourly reminder scan reads the index only (P6)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('engagements', '0003_engagement_created_at_index'),
        ('partners', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='commitment',
            name='commitment_open_due',
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(condition=models.Q(('status__in', ['open', 'in_progress'])), fields=['due_date', 'id'], include=('owner',), name='commitment_open_due'),
        ),
    ]
