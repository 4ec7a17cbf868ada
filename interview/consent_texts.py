"""The words of the introduction and consent, for families and for professionals.

Prose lives here, not in the logic (interview/consent.py). Rules for editing:

* Plain words, short sentences, no blame. Many readers are grieving or read little English.
* The first line of every message is neutral (notification previews): it never names the
  child, the case or what happened. Tests check this.
* Messages are plain text (send without a parse mode).
* Placeholders: {partnership} (starts a sentence), {reviewer}, {purpose}, {retention},
  {withdraw_until}, {support}. Changing any wording changes the consent hash: bump VERSION.
"""

from __future__ import annotations

from typing import Final

VERSION: Final = 1

DEFAULT_PARTNERSHIP: Final = "The local safeguarding partnership"
DEFAULT_REVIEWER: Final = "an independent lead reviewer"
DEFAULT_RETENTION: Final = (
    "for the time set by the partnership's records policy, and then delete them"
)
DEFAULT_WITHDRAW_UNTIL: Final = "the reviewer starts writing the report"

DEFAULT_PURPOSE: Final = {
    "family": "We would like to hear about your child, and about your family's experience of "
    "services, in your own words.",
    "professional": "We would like to understand your work with the child and family as it was "
    "at the time: what you knew, what you thought and what you did.",
}

DEFAULT_SUPPORT: Final = {
    "family": (
        "• Samaritans: call 116 123. Free, any time, day or night.\n"
        "• If you are grieving: Cruse Bereavement Support, 0808 808 1677 (free).\n"
        "• Child Bereavement UK: 0800 02 888 40.\n"
        "• National Domestic Abuse Helpline: 0808 2000 247. Free, any time.\n"
        "• If you or someone else is in danger now, call 999."
    ),
    "professional": (
        "• Your manager or supervisor.\n"
        "• Your employer's occupational health service or employee assistance programme.\n"
        "• Your trade union or professional body.\n"
        "• Samaritans: call 116 123. Free, any time, day or night."
    ),
}

_WELCOME = (
    "Hello, and thank you for opening this message.\n\n"
    "This is a private conversation. Please read it when you are somewhere you feel safe "
    "and have a little time.\n\n"
    "{partnership} is carrying out a review. It is led by {reviewer}, who does not work for "
    "any of the services involved. The review looks at how services worked with a child and "
    "their family, so that services can learn and do better.\n\n"
    "The review is about learning. It is not about blaming anyone.\n\n"
    "{purpose}"
)

_PRIVACY = (
    "How your answers are kept\n\n"
    "• This chat runs on Telegram. Chats with bots like this one are not end-to-end "
    "encrypted, so Telegram's computers can see these messages as they pass through.\n"
    "• As soon as your answers reach us, we store them encrypted (locked with a key).\n"
    "• Voice notes are turned into text on our own computer, not by another company.\n"
    "• Nothing is sent to the reviewer until you have read all your answers and chosen to "
    "send them.\n"
    "• Once sent, only the lead reviewer and the review panel can open them.\n"
    "• The review team will keep your answers {retention}.\n"
    "• After you send your answers, we delete our own readable copy."
)

_OTHER_PROCESSES_PRO = (
    "\n\nIf a disciplinary, regulatory or criminal process is running at the same time, what "
    "you say here could be asked for in that process. You may want to talk to your manager, "
    "union or professional body before you start."
)

_CONTROL = (
    "You are in control\n\n"
    "• You do not have to take part.\n"
    "• You can skip any question you do not want to answer.\n"
    "• You can pause at any time and come back later.\n"
    "• You can go back and change an answer.\n"
    "• You can stop at any time.\n"
    "• You can withdraw what you have shared until {withdraw_until}. Send /withdraw.\n"
    "• If other people use your phone, you can remove this chat with /clear."
)

_SUPPORT = (
    "Support\n\n"
    "Thinking about these things can be hard. Please be kind to yourself. "
    "If you would like to talk to someone:\n\n{support}"
)

INTRO: Final = {
    "family": (_WELCOME, _PRIVACY, _CONTROL, _SUPPORT),
    "professional": (_WELCOME, _PRIVACY + _OTHER_PROCESSES_PRO, _CONTROL, _SUPPORT),
}

_MORE_REVIEW = (
    "More information: who runs this\n\n"
    "A safeguarding partnership is the council, health services and police working together. "
    "The law asks them to hold a review when a child has died or been seriously harmed and "
    "abuse or neglect is known or suspected.\n\n"
    "The review looks at how services worked, to find lessons. It does not decide who is to "
    "blame. The reviewer writes a report for the partnership. The report is usually "
    "published, without people's names."
)

_MORE_PRIVACY = (
    "More information: privacy\n\n"
    "Telegram carries the messages between your phone and us. Bot chats do not use "
    'Telegram\'s "secret chats". This means they are not end-to-end encrypted, and Telegram '
    "could read them. Our messages to you cannot be forwarded or saved.\n\n"
    "On our side, every answer, voice note and transcript is encrypted as soon as it arrives. "
    "When you send your answers, they are locked so that only the review team's own keys can "
    "open them. They are also signed, so any change would show. You get a receipt code. Then "
    "we destroy our key to your answers, so our copy can no longer be read.\n\n"
    "We do not store your Telegram name or phone number with your answers."
)

_MORE_PROCESSES = (
    "More information: other processes\n\n"
    "Sometimes other things happen at the same time as a review. For example a police "
    "investigation, a coroner's inquest, or an employer's or regulator's process. The review "
    "is separate from these. But a court or another body can sometimes ask to see what was "
    "said to a review.\n\n"
    "If this worries you, you can talk to the reviewer before you start."
)

_MORE_WITHDRAW = (
    "More information: stopping and withdrawing\n\n"
    "You can stop at any time. Nothing is sent to the reviewer unless you choose to send it.\n\n"
    "You can withdraw until {withdraw_until}. Send /withdraw. What you shared will be "
    "deleted and the reviewer will not use it. After that, the reviewer is writing the report, "
    "so it may not be possible to take your words out.\n\n"
    "You can send /delete at any time to remove everything this bot still holds about you."
)

TELL_ME_MORE: Final = {
    "family": (_MORE_REVIEW, _MORE_PRIVACY, _MORE_PROCESSES, _MORE_WITHDRAW),
    "professional": (_MORE_REVIEW, _MORE_PRIVACY, _MORE_PROCESSES, _MORE_WITHDRAW),
}

_DESCRIBED_AS = {
    "family": 'as a family member, for example "the child\'s grandmother"',
    "professional": 'by your role, for example "a health visitor" or "the school"',
}

# (key, text, more, yes label, no label, required). The heading line is added by consent.py.
QUESTIONS: Final = {
    audience: (
        (
            "take_part",
            "Are you happy to take part in the review and share your experience here?",
            "Taking part means answering questions here, one at a time. You choose what to "
            "answer. You can pause, skip or stop at any time.",
            "Yes, I'd like to take part",
            "No, not now",
            True,
        ),
        (
            "quote",
            "The reviewer may want to use your own words in their report to the partnership. "
            f"Can they quote you? You would be described {described}, never by your name.",
            "You can still take part if you say no. The reviewer will then use what you say "
            "to understand what happened, without quoting your words.",
            "Yes, you can quote me",
            "No, please don't",
            False,
        ),
        (
            "anonymised_publication",
            "The review report is usually published. Can short quotes from what you say be "
            "used in the published report, with nothing that could identify you?",
            "Published quotes have names and details removed. You can still take part if you "
            "say no.",
            "Yes, that's fine",
            "No, please don't",
            False,
        ),
    )
    for audience, described in _DESCRIBED_AS.items()
}

QUESTION_HEADING: Final = "Your choice ({number} of {total})"
BUTTON_TELL_ME_MORE: Final = "Tell me more"
BUTTON_NOT_NOW: Final = "Not now"
BUTTON_CONTINUE: Final = "Continue"
NOT_NOW: Final = (
    "That is fine.\n\nYou have not shared anything yet. Whenever you are ready, send /start."
)
DECLINED: Final = (
    "Thank you for letting us know.\n\n"
    "You do not need to do anything else. If you change your mind, send /start. "
    "If you would like us to delete everything we hold, send /delete."
)
