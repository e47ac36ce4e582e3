"""The callback table keeps only the indexes a query needs: each is paid by every callback's INSERT."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        # Only its own first migration: it touches the callback table alone (and so leaves
        # messaging free to be migrated back past later migrations in the tests of theirs).
        ('callbacks', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='callbackevent',
            name='dedupe_key',
            field=models.CharField(blank=True, max_length=200, null=True),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='message',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.message'),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='reply',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='messaging.message'),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='state',
            field=models.CharField(choices=[('pending', 'Pending'), ('processed', 'Processed'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=20),
        ),
        migrations.AlterField(
            model_name='callbackevent',
            name='wappin_message_id',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name='callbackevent',
            index=models.Index(fields=['wappin_message_id'], name='callback_wappin_message_id'),
        ),
        migrations.AddIndex(
            model_name='callbackevent',
            index=models.Index(condition=models.Q(('message__isnull', False)), fields=['message'], name='callback_message'),
        ),
        migrations.AddIndex(
            model_name='callbackevent',
            index=models.Index(condition=models.Q(('reply__isnull', False)), fields=['reply'], name='callback_reply'),
        ),
        migrations.AddConstraint(
            model_name='callbackevent',
            constraint=models.UniqueConstraint(fields=('dedupe_key',), name='callback_dedupe_key_unique'),
        ),
    ]
