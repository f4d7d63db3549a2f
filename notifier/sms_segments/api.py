"""SMS encoding and segment count of a text, for the editors of SMS templates and messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_core.auth.deps import staff
from crm_core.auth.principal import Principal
from notifier.sms_segments.schemas import SegmentsIn, SegmentsOut
from notifier.sms_segments.service import count_segments

router = APIRouter(prefix="/api/notifier", tags=["notifier engagement"])


@router.post("/segments", response_model=SegmentsOut, summary="SMS encoding and segment count")
def post_segments(data: SegmentsIn, _: Principal = Depends(staff)) -> SegmentsOut:
    info = count_segments(data.text, transliterate=data.transliterate)
    return SegmentsOut.model_validate(info)


@router.get("/segments", response_model=SegmentsOut, summary="SMS encoding and segment count")
def get_segments(
    text: Annotated[str, Query(max_length=10_000)],
    transliterate: bool = False,
    _: Principal = Depends(staff),
) -> SegmentsOut:
    return SegmentsOut.model_validate(count_segments(text, transliterate=transliterate))
