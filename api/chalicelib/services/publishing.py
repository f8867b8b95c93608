"""Use case: publish the transparency page and the resolved-issue board (hourly, SPEC §4-5).

One run reads the daily rollups of the reporting window (the last ``months`` months and the
last 30 days) and the ``TOTAL`` rows, and the board index for those months: a number of reads set
by the window and the board's size, never by how many tickets the store holds. It renders every
page and data file (``publish.render``) and writes them to the sink in stages: stylesheet and
data files first, item pages, listing pages, the feed, then the board's and the transparency
page's index pages last, so a reader never follows a link to a page not yet written. Finally it
deletes the published files the run did not produce (a withdrawn item's page, a page number no
longer needed), after the index pages stopped linking to them.

Example::

    report = PublishService(store, clock, policy, taxonomy, directory, sink,
                            site_origin="https://feedback.example.org").run()
    print(report.files, report.deleted, report.board_items)
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.blobs.port import BlobStore
from chalicelib.domain.categories import Taxonomy
from chalicelib.domain.departments import Directory
from chalicelib.domain.metrics import RollupView, recent_months
from chalicelib.domain.publication import BoardEntry, board_entry
from chalicelib.domain.rollups import day_of
from chalicelib.domain.sla import Policy
from chalicelib.domain.tickets import CHANNELS
from chalicelib.publish.messages import MESSAGES
from chalicelib.publish.render import (
    CHANNEL_NAMES,
    LONG_CACHE,
    OWNED_PREFIXES,
    STAGE_ITEMS,
    Names,
    OutputFile,
    PublishInput,
    render,
)
from chalicelib.publish.sinks import Sink
from chalicelib.services.ports import Clock
from chalicelib.store.port import TicketStore

_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"')
_SAFE_STYLESHEET = re.compile(r"^assets/[A-Za-z0-9_\-./]+\.css$")
# When the built site cannot be read, the project's own stylesheet at least.
FALLBACK_STYLESHEETS = ("assets/css/clearloop.css",)


@dataclass(frozen=True)
class PublishReport:
    """What one run did."""

    files: int
    deleted: int
    board_items: int
    rollup_rows: int
    items_read: int | None
    where: str


def site_stylesheets(sink: Sink) -> list[str]:
    """The stylesheets the built site's home page links (Material's hashed bundle and the
    project's CSS), so published pages look like the rest of the site."""
    home = sink.read("index.html")
    if home is None:
        return list(FALLBACK_STYLESHEETS)
    found = []
    for link in _STYLESHEET.findall(home.decode("utf-8", "replace")):
        href = link.removeprefix("./")
        if _SAFE_STYLESHEET.match(href) and ".." not in href and href not in found:
            found.append(href)
    return found or list(FALLBACK_STYLESHEETS)


def names_for(taxonomy: Taxonomy, directory: Directory, language: str = "en") -> Names:
    """Display names in ``language`` (English where a name lacks it), in the order the
    configuration lists them."""
    categories: dict[str, str] = {}
    separator = "：" if language == "zh" else ": "
    for top in taxonomy.top:
        categories[top.code] = top.name(language)
        for child in top.children:
            categories[child.code] = f"{top.name(language)}{separator}{child.name(language)}"

    @functools.cache
    def parent(code: str) -> str:
        category = taxonomy.get(code)
        if category is None:
            return code
        return category.parent or category.code

    return Names(
        categories=categories,
        top_categories=[c.code for c in taxonomy.top],
        category_parent=parent,
        channels={c: channel_name(c, language) for c in CHANNELS},
        departments={d.id: d.name(language) for d in directory.departments.values()},
    )


def channel_name(channel: str, language: str) -> str:
    if language == "en":
        return CHANNEL_NAMES.get(channel, channel)
    return MESSAGES.get(language, {}).get(f"channel.{channel}", channel)


class PublishService:
    def __init__(
        self,
        store: TicketStore,
        clock: Clock,
        policy: Policy,
        taxonomy: Taxonomy,
        directory: Directory,
        sink: Sink,
        *,
        site_origin: str,
        months: int = 12,
        site_name: str = "Clearloop",
        blobs: Callable[[], BlobStore] | None = None,
    ) -> None:
        """``blobs`` gives the private photo store: approved photos are copied from it next
        to their board items at each publish (without it, items are published without)."""
        self._store = store
        self._clock = clock
        self._policy = policy
        self._taxonomy = taxonomy
        self._directory = directory
        self._sink = sink
        self._origin = site_origin.rstrip("/")
        self._months = months
        self._site_name = site_name
        self._blobs = blobs

    def _photos(self, board: list[BoardEntry]) -> tuple[list[BoardEntry], list[OutputFile]]:
        """Each entry with only the approved photos whose cleaned copy exists, and those
        photos as files next to the item page."""
        files: list[OutputFile] = []
        kept: list[BoardEntry] = []
        for entry in board:
            found = []
            for photo in entry.photos:
                blob = None if self._blobs is None else self._blobs().get(photo.source_key)
                if blob is None:
                    continue
                found.append(photo)
                files.append(
                    OutputFile(
                        f"board/items/{entry.board_id}/{photo.name}",
                        blob.data,
                        photo.content_type,
                        LONG_CACHE,
                        STAGE_ITEMS,
                    )
                )
            kept.append(dataclasses.replace(entry, photos=tuple(found)))
        return kept, files

    def run(self) -> PublishReport:
        """Publish once; safe to run again at any time (it rewrites the same files)."""
        now = self._clock.now()
        zone = self._policy.calendar.timezone
        today = date.fromisoformat(day_of(now, zone))
        months = recent_months(today, self._months)
        first = min(months[-1].first, today - timedelta(days=29))
        reads_before = getattr(self._store, "items_read", None)

        names = names_for(self._taxonomy, self._directory)
        rows = self._store.read_rollups(first, today)
        totals = self._store.read_rollup_totals()
        view = RollupView(rows, totals, today, group={"category": names.category_parent})
        board: list[BoardEntry] = []
        for period in months:
            for ticket in self._store.list_board(period.key):
                entry = board_entry(ticket, zone)
                if entry is not None and entry.month == period.key:
                    board.append(entry)
        board.sort(key=lambda e: (e.resolved_at, e.board_id), reverse=True)
        reads_after = getattr(self._store, "items_read", None)
        board, photo_files = self._photos(board)

        files = render(
            PublishInput(
                generated_at=now,
                zone=zone,
                today=today,
                view=view,
                months=months,
                board=board,
                names=names,
                names_zh=names_for(self._taxonomy, self._directory, "zh"),
                site_origin=self._origin,
                stylesheets=site_stylesheets(self._sink),
                site_name=self._site_name,
            )
        )
        files = photo_files + files  # the photos before the pages that show them
        existing = {key for prefix in OWNED_PREFIXES for key in self._sink.list(prefix)}
        for f in files:  # render() orders them by stage
            self._sink.write(f.key, f.body, f.content_type, f.cache_control)
        written = {f.key for f in files}
        stale = sorted(existing - written)
        if stale:
            self._sink.delete(stale)
        items_read = None
        if isinstance(reads_before, int) and isinstance(reads_after, int):
            items_read = reads_after - reads_before
        return PublishReport(
            files=len(files),
            deleted=len(stale),
            board_items=len(board),
            rollup_rows=len(rows) + len(totals),
            items_read=items_read,
            where=self._sink.describe(),
        )
