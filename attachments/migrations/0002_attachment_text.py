"""The searchable text of each attachment (attachments/textindex.py). Existing files start as "pending":
the beat sweep (or `manage.py extract_attachment_text`) reads them after this migration."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('attachments', '0001_attachments'),
    ]

    operations = [
        migrations.AddField(
            model_name='attachment',
            name='text',
            field=models.TextField(blank=True, default='', help_text="The file's text for search (ATTACHMENT_TEXT_MAX_CHARS at most)."),
        ),
        migrations.AddField(
            model_name='attachment',
            name='text_attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Extraction runs started for this file.'),
        ),
        migrations.AddField(
            model_name='attachment',
            name='text_note',
            field=models.CharField(blank=True, default='', help_text='Why it failed, or that the text was cut.', max_length=300),
        ),
        migrations.AddField(
            model_name='attachment',
            name='text_started_at',
            field=models.DateTimeField(blank=True, help_text='When the last extraction run started.', null=True),
        ),
        migrations.AddField(
            model_name='attachment',
            name='text_status',
            field=models.CharField(choices=[('pending', 'waiting for extraction'), ('done', 'searchable'), ('failed', 'could not be read'), ('unsupported', 'not a type whose text is read')], default='pending', max_length=16),
        ),
        migrations.AddIndex(
            model_name='attachment',
            index=models.Index(condition=models.Q(('text_status', 'pending')), fields=['text_started_at'], name='attachment_text_pending'),
        ),
    ]
