"""A reader's library: saving papers into collections, notes, read state and "not interested".

Every change is the reader's own (a collection of someone else's raises NotAllowed), counted
against PAPERROUTE_RATE_LIBRARY, and safe to repeat: saving a saved paper changes nothing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from paperroute.catalog.models import Paper
from paperroute.community import ratelimit
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.library.models import Collection, CollectionItem, PaperNote, PaperState

SAVED = "Saved"
MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_NOTE = 10_000
MAX_COLLECTIONS = 200
MAX_ITEMS = 5000


def _limit(user) -> None:
    ratelimit.check("library", str(user.pk), ratelimit.setting("RATE_LIBRARY"))


def _clean(text: str, limit: int, field: str, what: str) -> str:
    text = (text or "").replace("\x00", "").strip()
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long: at most {limit:,} characters", field)
    return text


def _own(user, collection: Collection) -> Collection:
    if collection.owner_id != user.pk:
        raise NotAllowed("that collection is not yours")
    return collection


# -- collections ---------------------------------------------------------------------------


def saved_collection(user) -> Collection:
    """The reader's "Saved" collection, made on first use."""
    found = Collection.objects.filter(owner=user, is_default=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return Collection.objects.create(owner=user, name=SAVED, is_default=True)
    except IntegrityError:  # made by a concurrent request
        return Collection.objects.get(owner=user, is_default=True)


def collections_of(user) -> list[Collection]:
    """The reader's collections, "Saved" first, each with `count` set."""
    from django.db.models import Count

    def listed() -> list[Collection]:
        return list(Collection.objects.filter(owner=user).annotate(count=Count("items")))

    found = listed()
    if any(c.is_default for c in found):
        return found
    saved_collection(user)  # a reader's first: read again, with "Saved" first
    return listed()


def create_collection(user, name: str, description: str = "", public: bool = False) -> Collection:
    _limit(user)
    name = _clean(name, MAX_NAME, "name", "The name")
    if not name:
        raise InvalidInput("a collection needs a name", "name")
    if Collection.objects.filter(owner=user).count() >= MAX_COLLECTIONS:
        raise InvalidInput(f"you have {MAX_COLLECTIONS} collections, the most there can be", "name")
    return Collection.objects.create(
        owner=user,
        name=name,
        public=bool(public),
        description=_clean(description, MAX_DESCRIPTION, "description", "The description"),
    )


def update_collection(
    user,
    collection: Collection,
    *,
    name: str | None = None,
    description: str | None = None,
    public: bool | None = None,
) -> Collection:
    _own(user, collection)
    _limit(user)
    if name is not None:
        name = _clean(name, MAX_NAME, "name", "The name")
        if not name:
            raise InvalidInput("a collection needs a name", "name")
        collection.name = name
    if description is not None:
        collection.description = _clean(description, MAX_DESCRIPTION, "description", "The description")
    if public is not None:
        collection.public = bool(public)
    collection.save()
    return collection


def delete_collection(user, collection: Collection) -> None:
    _own(user, collection)
    if collection.is_default:
        raise NotAllowed("your Saved collection cannot be deleted; remove its papers instead")
    _limit(user)
    collection.delete()


# -- papers in collections -----------------------------------------------------------------


def add(user, paper: Paper, collection: Collection | None = None, note: str = "") -> CollectionItem:
    """Put the paper in the collection (Saved by default); a paper already there stays put."""
    collection = _own(user, collection) if collection else saved_collection(user)
    _limit(user)
    note = _clean(note, MAX_NOTE, "note", "The note")
    existing = CollectionItem.objects.filter(collection=collection, paper=paper).first()
    if existing:
        return existing
    if CollectionItem.objects.filter(collection=collection).count() >= MAX_ITEMS:
        raise InvalidInput(f"a collection holds at most {MAX_ITEMS:,} papers", "paper")
    with transaction.atomic():
        last = CollectionItem.objects.filter(collection=collection).aggregate(m=Max("position"))["m"]
        try:
            with transaction.atomic():
                item = CollectionItem.objects.create(
                    collection=collection,
                    paper=paper,
                    note=note,
                    position=(last or 0) + 1,
                    added_at=timezone.now(),
                )
        except IntegrityError:  # a double click: the first one saved it
            return CollectionItem.objects.get(collection=collection, paper=paper)
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return item


def remove(user, paper: Paper, collection: Collection | None = None) -> bool:
    """Take the paper out of the collection (Saved by default); whether it was there."""
    collection = _own(user, collection) if collection else saved_collection(user)
    _limit(user)
    removed, _ = CollectionItem.objects.filter(collection=collection, paper=paper).delete()
    return bool(removed)


def set_item_note(user, collection: Collection, paper: Paper, note: str) -> CollectionItem:
    _own(user, collection)
    _limit(user)
    item = CollectionItem.objects.filter(collection=collection, paper=paper).first()
    if item is None:
        raise InvalidInput("that paper is not in this collection", "paper")
    item.note = _clean(note, MAX_NOTE, "note", "The note")
    item.save(update_fields=["note"])
    return item


def move(user, collection: Collection, paper: Paper, steps: int) -> None:
    """Move the paper up (negative) or down (positive) the collection's order."""
    _own(user, collection)
    _limit(user)
    keys = list(CollectionItem.objects.filter(collection=collection).values_list("paper_id", flat=True))
    if paper.pk not in keys:
        raise InvalidInput("that paper is not in this collection", "paper")
    at = keys.index(paper.pk)
    keys.insert(max(0, min(len(keys) - 1, at + steps)), keys.pop(at))
    _renumber(collection, keys)


def reorder(user, collection: Collection, paper_keys: list[str]) -> None:
    """Put the collection in this order of paper ids; papers not named keep theirs, after them."""
    _own(user, collection)
    _limit(user)
    items = dict(CollectionItem.objects.filter(collection=collection).values_list("paper__key", "paper_id"))
    named = [items[key] for key in dict.fromkeys(paper_keys) if key in items]
    rest = [
        pid
        for pid in CollectionItem.objects.filter(collection=collection).values_list("paper_id", flat=True)
        if pid not in set(named)
    ]
    _renumber(collection, named + rest)


def _renumber(collection: Collection, paper_ids: list[int]) -> None:
    with transaction.atomic():
        for position, pid in enumerate(paper_ids, start=1):
            CollectionItem.objects.filter(collection=collection, paper_id=pid).update(position=position)
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


def items(collection: Collection):
    """The collection's items in order, with their papers."""
    return CollectionItem.objects.filter(collection=collection).select_related("paper")


def saved_ids(user, paper_ids) -> set[int]:
    """Which of these papers are in any of the reader's collections."""
    if not user.is_authenticated:
        return set()
    return set(
        CollectionItem.objects.filter(collection__owner=user, paper_id__in=list(paper_ids)).values_list(
            "paper_id", flat=True
        )
    )


def collections_holding(user, paper: Paper) -> set[int]:
    """The ids of the reader's collections that hold the paper."""
    return set(
        CollectionItem.objects.filter(collection__owner=user, paper=paper).values_list(
            "collection_id", flat=True
        )
    )


# -- private notes -------------------------------------------------------------------------


def note_of(user, paper: Paper) -> str:
    if not user.is_authenticated:
        return ""
    return PaperNote.objects.filter(user=user, paper=paper).values_list("text", flat=True).first() or ""


def set_note(user, paper: Paper, text: str) -> str:
    """Keep the reader's private note on the paper; an empty note deletes it."""
    _limit(user)
    text = _clean(text, MAX_NOTE, "note", "The note")
    if not text:
        PaperNote.objects.filter(user=user, paper=paper).delete()
        return ""
    PaperNote.objects.update_or_create(user=user, paper=paper, defaults={"text": text})
    return text


def notes_of(user) -> dict[int, str]:
    """All the reader's private notes, by paper id."""
    return dict(PaperNote.objects.filter(user=user).values_list("paper_id", "text"))


# -- read and not interested ---------------------------------------------------------------


def _state(user, paper: Paper, **fields) -> None:
    updated = PaperState.objects.filter(user=user, paper=paper).update(**fields)
    if not updated:
        try:
            with transaction.atomic():
                PaperState.objects.create(user=user, paper=paper, **fields)
        except IntegrityError:
            PaperState.objects.filter(user=user, paper=paper).update(**fields)


def opened(user, paper: Paper) -> None:
    """The reader opened the paper's page: it counts as read (not rate-limited: it is a view)."""
    if (
        user.is_authenticated
        and not PaperState.objects.filter(user=user, paper=paper, read_at__isnull=False).exists()
    ):
        _state(user, paper, read_at=timezone.now())


def mark_read(user, paper: Paper, read: bool = True) -> None:
    _limit(user)
    _state(user, paper, read_at=timezone.now() if read else None)


def not_interested(user, paper: Paper, dismissed: bool = True) -> None:
    """Hide the paper from the reader's listings and count it against papers like it."""
    _limit(user)
    _state(user, paper, dismissed_at=timezone.now() if dismissed else None)


def forget_dismissed(user) -> int:
    """Take back every "not interested": the papers show again and stop counting against
    papers like them. Returns how many there were."""
    _limit(user)
    return PaperState.objects.filter(user=user, dismissed_at__isnull=False).update(dismissed_at=None)


def read_ids(user, paper_ids) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        PaperState.objects.filter(user=user, paper_id__in=list(paper_ids), read_at__isnull=False).values_list(
            "paper_id", flat=True
        )
    )


def state_of(user, paper: Paper) -> tuple[bool, bool]:
    """Whether the reader has read the paper, and whether they marked it "not interested"."""
    if not user.is_authenticated:
        return False, False
    row = PaperState.objects.filter(user=user, paper=paper).values_list("read_at", "dismissed_at").first()
    return (row[0] is not None, row[1] is not None) if row else (False, False)


def dismissed_ids(user, paper_ids=None) -> set[int]:
    if not user.is_authenticated:
        return set()
    rows = PaperState.objects.filter(user=user, dismissed_at__isnull=False)
    if paper_ids is not None:
        rows = rows.filter(paper_id__in=list(paper_ids))
    return set(rows.values_list("paper_id", flat=True))
