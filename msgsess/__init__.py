"""msgsess: create and edit Outlook .msg files in sessions."""

__version__ = "0.1.0"
