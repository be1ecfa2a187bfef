"""The data: accounts, tasks with their deliveries, mail templates, notifications, saved
lists (audiences) and their imports."""

from app.models.api import ApiToken, IdempotencyKey, Webhook, WebhookDelivery
from app.models.audience import ImportRefusal, ListImport, MailingList, Member
from app.models.bounce import Bounce
from app.models.notification import Notification
from app.models.suppression import Suppression
from app.models.task import Delivery, Task
from app.models.template import MailTemplate
from app.models.user import User

__all__ = ["ApiToken", "Bounce", "Delivery", "IdempotencyKey", "ImportRefusal", "ListImport",
           "MailTemplate", "MailingList", "Member", "Notification", "Suppression", "Task", "User",
           "Webhook", "WebhookDelivery"]
