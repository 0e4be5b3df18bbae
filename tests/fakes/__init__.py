"""Local fake servers that follow the providers' published API shapes."""
