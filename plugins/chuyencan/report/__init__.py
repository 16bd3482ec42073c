"""The fortnightly report: summary tables, the Excel report, early warning."""
