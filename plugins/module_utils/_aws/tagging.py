# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The tags of many resources, of any service, in one call (Resource Groups Tagging API ``GetResources``).

Several services keep a resource's tags behind one call per resource (ECR's ListTagsForResource, Logs',
CloudWatch's): an owner that reads the tags of all its resources asks GetResources for a hundred ARNs a call
instead. The tagging API is eventually consistent and answers only resources that are or were tagged: an
owner compares what it answers with the options and asks the resource's own service where they differ,
so that a run right after a tag write plans no needless write.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Optional, Tuple

from .api import AwsApi, chunks, read_each
from .errors import AwsApiError

GET_RESOURCES_BATCH = 100
# What IAM answers a role that may not make a call.
ACCESS_DENIED = frozenset(("AccessDeniedException", "AccessDenied"))


class TaggingApi(AwsApi):
    """GetResources by ARN; areas subclass it to set their error type."""

    service = "resourcegroupstaggingapi"

    @staticmethod
    def _token_names(operation: str):
        return ("PaginationToken", "PaginationToken")

    def get_resources(self, arns: List[str]) -> Dict[str, Dict[str, str]]:
        """``{arn: {key: value}}`` for the ARNs that have (or had) tags, a hundred ARNs per call.

        AWS returns only resources that are or were tagged: an ARN missing from the answer has none,
        or was tagged too recently for the tagging API to know (it is eventually consistent).
        """
        out: Dict[str, Dict[str, str]] = {}
        for batch in chunks(sorted(set(arns)), GET_RESOURCES_BATCH):
            for item in self.paginate("get_resources", "ResourceTagMappingList", ResourceARNList=batch,
                                      ResourcesPerPage=GET_RESOURCES_BATCH):
                out[item["ResourceARN"]] = {t["Key"]: t.get("Value", "") for t in item.get("Tags") or []}
        return out


def tags_differ(current: Mapping[str, str], wanted: Mapping[str, str], purge: bool) -> bool:
    """True when ``current`` lacks or changes a tag of ``wanted`` or, with ``purge``, has one ``wanted`` has not."""
    return any(current.get(k) != v for k, v in wanted.items()) or (purge and any(k not in wanted for k in current))


def read_tags(tagging: TaggingApi, wanted: Mapping[str, Tuple[Mapping[str, str], bool]],
              own: Callable[[str], Dict[str, str]]) -> Dict[str, Dict[str, str]]:
    """The current tags of the resources ``wanted`` names (ARN -> (the tags asked for, purge)): GetResources, a hundred
    ARNs a call; the resource's own service (``own``, several at once) for each whose answer there differs from what
    is asked, and for every one when the role may not call tag:GetResources."""
    if not wanted:
        return {}
    found: Optional[Dict[str, Dict[str, str]]]
    try:
        found = tagging.get_resources(list(wanted))
    except AwsApiError as exc:
        if exc.code not in ACCESS_DENIED:
            raise
        found = None
    out = {arn: (found or {}).get(arn, {}) for arn in wanted}
    ask = [arn for arn in wanted if found is None or tags_differ(out[arn], *wanted[arn])]
    for arn, tags in zip(ask, read_each(own, ask)):
        out[arn] = tags
    return out
