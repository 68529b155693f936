"""Shared by the Kommunkompassen tests: the municipalities a test file may name (code -> name,
public facts; Grästorp is 1444)."""

from __future__ import annotations

MUNICIPALITIES = {
    "1784": "Arvika", "0180": "Stockholm", "1480": "Göteborg", "1442": "Vårgårda",
    "1882": "Askersund", "2583": "Haparanda", "1443": "Bollebygd", "1446": "Karlsborg",
    "1444": "Grästorp",
}
