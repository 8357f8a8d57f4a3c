"""Index engagements by creation time: the weekly digest's "logged last week".

`notifications.digest.build_weekly_digests` reads engagements with
created_at in [Monday a week ago, Monday). Without an index PostgreSQL reads
the whole table for it (bench at scale 1: Seq Scan over 200,000 engagements,
~280 ms, every week and growing); with it, a range scan of one week's rows.

Raw SQL rather than Meta.indexes so that the model state does not change
(models.py belongs to the engagements owners; moving this into
Engagement.Meta.indexes later with the same name is a no-op for the database,
and makemigrations would then write a state-only AddIndex). `IF NOT EXISTS`
works on PostgreSQL and SQLite alike.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0002_mission_countries_itinerary_order"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS engagement_created_at ON engagements_engagement (created_at)",
            reverse_sql="DROP INDEX IF EXISTS engagement_created_at",
        ),
    ]
