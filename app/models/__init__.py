"""The data: accounts, tasks with their deliveries, notifications."""

from app.models.notification import Notification
from app.models.task import Delivery, Task
from app.models.user import User

__all__ = ["Delivery", "Notification", "Task", "User"]
