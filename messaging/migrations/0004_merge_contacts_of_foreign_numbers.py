"""Merge the contacts the old phone rule made out of foreign numbers.

The old rule read a foreign number that had lost its `+` as Indonesian: `+65 9123 4567`
was stored as `626591234567`, often beside a correct `6591234567` contact of the same
project. A contact is such a leftover when its number is `62` followed by a valid
non-Indonesian number X:

- if the project also has a contact X, the two are one person: X survives and takes the
  leftover's messages, blast refusals, groups, opt-out, last inbound message, hand-over,
  name and attributes where its own are empty; the leftover is deleted;
- if it has none, the leftover is renumbered to X, but only when its number is not a
  valid Indonesian number: `626591234567` alone could be a real Indonesian line
  (+62 659 1234567) and is left as it is.

Chunked by id, in one transaction, and safe to run again (a merged or renumbered
contact no longer starts with 62 + a foreign number).
"""

import phonenumbers
from django.db import migrations

CHUNK = 2000
INDONESIA = 62


def _parse(digits):
    try:
        return phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None


def foreign_number_inside(stored):
    """X when `stored` is "62" + X and X is a valid non-Indonesian number, else None."""
    if not stored.startswith("62"):
        return None
    number = _parse(stored[2:])
    if number is None or number.country_code == INDONESIA or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def is_valid_indonesian(stored):
    number = _parse(stored)
    return number is not None and phonenumbers.is_valid_number(number)


def _merge(apps, *, leftover, survivor):
    Message = apps.get_model("messaging", "Message")
    BlastRefusal = apps.get_model("messaging", "BlastRefusal")
    # One message and one refusal per contact and blast: where the survivor already has its
    # own in a blast, the leftover's stays in the history without a contact (as a deleted
    # contact's would) instead of breaking the constraint.
    survivor_blasts = Message.objects.filter(contact=survivor, blast__isnull=False).values("blast_id")
    Message.objects.filter(contact=leftover).exclude(blast_id__in=survivor_blasts).update(contact=survivor)
    Message.objects.filter(contact=leftover).update(contact=None)
    refused_blasts = BlastRefusal.objects.filter(contact=survivor).values("blast_id")
    BlastRefusal.objects.filter(contact=leftover).exclude(blast_id__in=refused_blasts).update(contact=survivor)
    BlastRefusal.objects.filter(contact=leftover).update(contact=None)

    survivor.groups.add(*leftover.groups.all())
    # A STOP sent from either number is honoured: the earliest opt-out wins.
    opt_outs = [moment for moment in (survivor.opted_out_at, leftover.opted_out_at) if moment]
    survivor.opted_out_at = min(opt_outs) if opt_outs else None
    inbound = [moment for moment in (survivor.last_inbound_at, leftover.last_inbound_at) if moment]
    survivor.last_inbound_at = max(inbound) if inbound else None
    survivor.handed_over_at = survivor.handed_over_at or leftover.handed_over_at
    survivor.name = survivor.name or leftover.name
    survivor.attributes = {**(leftover.attributes or {}), **(survivor.attributes or {})}
    survivor.save(
        update_fields=["opted_out_at", "last_inbound_at", "handed_over_at", "name", "attributes", "updated_at"]
    )
    leftover.delete()


def merge_contacts_of_foreign_numbers(apps, schema_editor):
    Contact = apps.get_model("messaging", "Contact")
    last_id = 0
    while True:
        chunk = list(
            Contact.objects.filter(pk__gt=last_id, phone_number__startswith="62").order_by("pk")[:CHUNK]
        )
        if not chunk:
            return
        last_id = chunk[-1].pk
        leftovers = {}
        for contact in chunk:
            correct = foreign_number_inside(contact.phone_number)
            if correct is not None:
                leftovers[(contact.project_id, correct)] = contact
        if not leftovers:
            continue
        survivors = {
            (contact.project_id, contact.phone_number): contact
            for contact in Contact.objects.filter(phone_number__in={number for _, number in leftovers})
        }
        for key, leftover in leftovers.items():
            survivor = survivors.get(key)
            if survivor is not None:
                _merge(apps, leftover=leftover, survivor=survivor)
            elif not is_valid_indonesian(leftover.phone_number):
                leftover.phone_number = key[1]
                leftover.save(update_fields=["phone_number", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_message_number_index_whole_order"),
    ]

    operations = [
        migrations.RunPython(merge_contacts_of_foreign_numbers, migrations.RunPython.noop, elidable=True),
    ]
