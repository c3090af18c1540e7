"""Ship the "Stemma default" policy, published as version 1 (docs/policies.md describes it)."""

from django.db import migrations


def forward(apps, schema_editor):
    from policies.services import install_default_policy

    install_default_policy(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0001_initial"),
        ("registry", "0002_provenance_append_only"),
    ]

    # Backwards leaves the policy: decisions may point at it, and the log names it.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
