"""The data: accounts, tasks with their deliveries, mail templates, notifications."""

from app.models.notification import Notification
from app.models.suppression import Suppression
from app.models.task import Delivery, Task
from app.models.template import MailTemplate
from app.models.user import User

__all__ = ["Delivery", "MailTemplate", "Notification", "Suppression", "Task", "User"]
