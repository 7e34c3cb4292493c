"""``WebhookDelivery.body_sha256``: the signed body's SHA-256, unique per repository (when set).

The delivery id is not signed, so a captured delivery sent again under a new id (or none) was a
new delivery; now the same body is a replay whatever its id. Rows from before keep an empty hash
(the condition leaves them out of the constraint) and age out as new deliveries arrive.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('codeindex', '0012_vector_in_tests'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='body_sha256',
            field=models.CharField(blank=True, default='', help_text='SHA-256 of the signed body, hex; empty on rows from before it was kept.', max_length=64),
        ),
        migrations.AddConstraint(
            model_name='webhookdelivery',
            constraint=models.UniqueConstraint(condition=models.Q(('body_sha256', ''), _negated=True), fields=('repository', 'body_sha256'), name='codeindex_delivery_unique_body'),
        ),
    ]
