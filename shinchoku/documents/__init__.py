"""What people read: the progress report and site, the return sheet, the review checklist, the run's summary."""
