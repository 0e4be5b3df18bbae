"""Server-rendered pages (Jinja2, autoescape on); a deployer may override any template."""
