"""Insights over stored cases: case records, analytics, charts and exports (`csbot report`).

- ``records``: one :class:`~bot.insights.records.CaseRecord` per conversation, read from the store;
- ``analytics``: pure functions from records to tables;
- ``labels``: the Chinese names of causes, remedies, stages, outcomes, findings (from dialogs/);
- ``charts``: SVG charts (pygal);
- ``render``: the HTML page and the CSV file.
"""
