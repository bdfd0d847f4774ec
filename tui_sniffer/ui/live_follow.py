"""Following the newest packet of a live capture: while the cursor is on the last displayed packet
(and in sight), it moves to each newer one as packets arrive or, with a display filter, as matches
are found; moving the cursor or scrolling away stops it, `G`/`End` (the last packet) resumes it."""
from __future__ import annotations

from collections.abc import Callable


class FollowNewestMixin:
    """The app's auto-scroll during live capture (see the module docstring)."""

    def _following(self) -> bool:
        """Whether the cursor sits on the newest displayed packet with it in sight (or nothing is shown)."""
        packet_list = self.packet_list
        count = len(self.displayed_packet_numbers)
        return count == 0 or (packet_list.cursor_row >= count - 1
                              and packet_list.scroll_y + packet_list.visible_rows >= count)

    def _follow_newest(self, update_view: Callable[[], None]) -> None:
        """Run `update_view`; if the list was following, move the cursor to the new newest packet."""
        count, following = len(self.displayed_packet_numbers), self._following()
        update_view()
        self._move_to_newest(following, count)

    def _move_to_newest(self, following: bool, count_before: int) -> None:
        """Select the newest displayed packet if the list was following and the view grew."""
        if following and len(self.displayed_packet_numbers) > count_before:
            self.packet_list.action_bottom()

    def on_filter_matches_found(self, message) -> None:
        """Matches a display filter found in a live capture: follow them once the filter code added them."""
        if self.live is not None and self.capture is self.live_view:
            self.call_later(self._move_to_newest, self._following(), len(self.displayed_packet_numbers))
