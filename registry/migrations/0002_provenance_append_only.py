"""Make the provenance table append-only in PostgreSQL: UPDATE and DELETE are refused.

TRUNCATE stays possible for the database owner (test flushes use it); verify_provenance
and an off-site copy of the latest hash are what catch that."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION stemma_provenance_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'provenance events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER provenance_no_update BEFORE UPDATE OR DELETE ON registry_provenanceevent
    FOR EACH ROW EXECUTE FUNCTION stemma_provenance_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS provenance_no_update ON registry_provenanceevent;
DROP FUNCTION IF EXISTS stemma_provenance_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
