"""Reading a workbook: its parts, number formats, tables and values, assessed into records and issues.

Never imports Prefect or DuckDB (the check command and the parsing workers load only this).
"""
