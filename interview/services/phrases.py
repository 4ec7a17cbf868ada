"""The conversation's own words (consent prose is in ``interview/consent_texts.py``).

Plain words, short sentences, no blame. The first line of every message is neutral: it never
names the child, the case or what happened (notification previews show it on a locked phone).
Messages are plain text.
"""

from __future__ import annotations

from typing import Final

STRANGER: Final = (
    "This is a private service for people who have been invited to take part in a review. "
    "If you have an invite link, please tap it again."
)
GROUP_REFUSED: Final = "This service only works in a private chat, so I am leaving this group."
FORWARDED_REFUSED: Final = (
    "Thank you. I can't use forwarded messages as your answer, because I need your own "
    "words. Please type or record your answer here. Nothing from that message was kept."
)
UNSUPPORTED: Final = (
    "Sorry, I can only take typed messages or voice notes as answers. Nothing from that "
    "message was kept."
)
QUESTION_HEADING: Final = "Question {number} of {total}"
NOTE_HEADING: Final = "Before the next questions"
HINT_FREE: Final = (
    "Type your answer, or send a voice note. You can send several messages. "
    "Tap Done when you have finished this question."
)
HINT_DATE: Final = (
    "Type the date in your own words. An approximate date is fine. Tap Done when you have finished."
)
HINT_CHRONOLOGY: Final = (
    "Send one contact per message, starting with its date, for example: "
    '"12 March 2024 - home visit, mother and both children seen". '
    "Tap Done when you have added them all."
)
HINT_CHOICE_ONE: Final = "Tap the answer that fits best."
HINT_CHOICE_MANY: Final = "Tap every answer that fits, then tap Done."
SAVED: Final = "Saved. You can add more, or tap Done when you have finished this question."
SAVED_CHOICE: Final = "Saved."
USE_BUTTONS_CHOICE: Final = (
    "For this question, please tap one of the answers above, or tap Skip. "
    "Your message was not kept."
)
DONE_EMPTY: Final = (
    "Nothing is saved for this question yet. Type or record your answer, or tap Skip."
)
STALE_BUTTON: Final = "That button belongs to an earlier message."
EDITING_NOW: Final = "Changing your answer to question {number}"
EDIT_CURRENT: Final = "Your answer at the moment:\n\n{answer}"
EDIT_HOW: Final = "Send your new answer to replace it, or tap Keep to leave it as it is."
EDIT_PICK: Final = "Which answer would you like to change? Tap its number."
EDIT_BAD_NUMBER: Final = "Please send the number of a question, from 1 to {total}."
READBACK_INTRO: Final = (
    "Here is everything you have told us. Please read it through. You can change any answer "
    "before you send it."
)
READBACK_ACTIONS: Final = (
    "Your statement is ready\n\n"
    'When you are happy with it, tap "Send to the reviewer". Your choices about quotes:\n'
    "• Quote your words (described {described}): {quote}\n"
    "• Anonymised quotes in the published report: {publish}"
)
READBACK_USE_BUTTONS: Final = (
    "Your answers are saved. Please use the buttons under your statement, or send the "
    "number of an answer to change it."
)
SUBMITTED: Final = (
    "Thank you\n\n"
    "Your statement is saved and is being sealed for the reviewer now. Thank you for taking "
    "the time to share it."
)
RECEIPT: Final = (
    "Your receipt\n\n"
    "Your statement has been sealed and sent to the reviewer. Only the reviewer can open it. "
    "The copy this service held has now been deleted.\n\n"
    "Receipt code: {code}\n\n"
    "Keep this code: you can quote it if you contact the reviewer. If you want to withdraw "
    "your statement, send /withdraw. To see the code again, send /receipt."
)
RECEIPT_DELAYED: Final = (
    "Your statement is safely stored, but sealing it is taking longer than usual. It will be "
    "sent shortly; send /receipt later to see your receipt code."
)
RECEIPTS: Final = "Your receipt code: {codes}"
NO_RECEIPT: Final = "There is no sealed statement from you yet."
ALREADY_SUBMITTED: Final = (
    "Your statement has already been sent to the reviewer. If you want to add something, "
    "please contact the reviewer. To withdraw it, send /withdraw."
)
PAUSED: Final = (
    "Paused\n\n"
    "Everything you have given so far is saved and encrypted. Take all the time you need. "
    "When you are ready, tap Resume or send /resume."
)
WELCOME_BACK: Final = "Welcome back. Here is where you left off."
NOT_YET: Final = (
    "That is fine. Your answers are saved and nothing has been sent. When you are ready, "
    "send /resume to see your statement again."
)
CONFIRM_WITHDRAW: Final = (
    "Withdrawing from the review\n\n"
    "If you withdraw, everything you have given here will be deleted and will not be used in "
    "the review. This cannot be undone. Do you want to withdraw?"
)
CONFIRM_DELETE: Final = (
    "Deleting your information\n\n"
    "This permanently deletes everything this service holds for you: your answers, voice "
    "notes and the link to your account. It cannot be undone. Do you want to delete it all?"
)
DELETE_SEALED_NOTE: Final = (
    " A statement you already sent to the reviewer is not affected; send /withdraw to withdraw it."
)
WITHDRAWN: Final = (
    "Done\n\n"
    "You have withdrawn. What you gave here has been deleted and will not be used. "
    "Thank you for your time. If you need support, send /help."
)
DELETED: Final = (
    "Done\n\n"
    "Everything this service held for you has been permanently deleted. To remove this chat "
    "from your phone too, send /clear first or delete the chat in Telegram."
)
KEPT: Final = "Nothing has changed. Your answers are safe."
WITHDRAW_CLOSED: Final = (
    "The time for withdrawing from this review ended on {date}. Please contact the reviewer "
    "if you have concerns about what you shared."
)
NOTHING_HELD: Final = "This service holds nothing for you at the moment."
CLEARED: Final = (
    "Messages cleared\n\n"
    "I have deleted the messages in this chat that Telegram allows (from the last 48 hours). "
    "Older messages stay until you delete them: press and hold a message, or delete the whole "
    "chat. Your saved answers are not affected."
)
HELP: Final = (
    "How this works\n\n"
    "I ask one question at a time. Answer by typing or by sending a voice note. You can send "
    "several messages, then tap Done. Use the buttons to Skip a question, go Back, or Pause.\n\n"
    "Commands:\n"
    "/resume - carry on where you left off\n"
    "/pause - stop for now; everything is saved\n"
    "/withdraw - withdraw from the review\n"
    "/delete - permanently delete everything held for you\n"
    "/clear - delete the messages in this chat (as far as Telegram allows)\n"
    "/help - this message\n\n"
    "Messages here are carried by Telegram and are not end-to-end encrypted. What you answer "
    "is stored encrypted, and only the reviewer can read your statement once you send it.\n\n"
    "If you need support:\n{support}"
)

BUTTON_DONE: Final = "✅ Done"
BUTTON_SKIP: Final = "Skip ⏭"
BUTTON_BACK: Final = "◀ Back"
BUTTON_PAUSE: Final = "⏸ Pause"
BUTTON_HELP: Final = "❓ What does this mean?"
BUTTON_SKIP_SECTION: Final = "Skip this part"
BUTTON_RESUME: Final = "▶ Resume"
BUTTON_KEEP: Final = "Keep my answer"
BUTTON_SEND: Final = "📨 Send to the reviewer"
BUTTON_EDIT: Final = "✎ Change an answer"
BUTTON_NOT_YET: Final = "Not yet"
BUTTON_WITHDRAW: Final = "Withdraw"
BUTTON_WITHDRAW_YES: Final = "Yes, withdraw"
BUTTON_DELETE_YES: Final = "Yes, delete everything"
BUTTON_NO_KEEP: Final = "No, keep my answers"

# Voice notes
BUTTON_HEARD_OK: Final = "✓ That's right"
BUTTON_HEARD_FIX: Final = "✎ Correct it"
BUTTON_HEARD_AGAIN: Final = "🎙 Record again"
VOICE_RECEIVED: Final = (
    "Thank you, I have your voice note and it is saved. I am writing down what you said now; "
    "this can take a little while. You can carry on meanwhile."
)
HEARING: Final = "Listening to your voice note…\n\n{text}"
HEARD: Final = (
    "Here is what I heard\n\n{text}\n\n"
    'Is that right? If something is wrong, tap "Correct it" and type it the way you meant it.'
)
CORRECT_HOW: Final = (
    "Please type your answer the way you meant it. It will replace what I heard (the reviewer "
    "can see both)."
)
CORRECTED: Final = "Thank you, I have saved your correction."
RECORD_AGAIN: Final = (
    "That's fine. That voice note will not be used. Please record your answer again, or type "
    "it if you prefer."
)
VOICE_TOO_LARGE: Final = (
    "Sorry, that recording is too large for me to receive (the limit is 20 MB). Could you "
    "record a shorter voice note, or split it into a few parts? Nothing else has changed."
)
VOICE_TOO_LONG: Final = (
    "Sorry, that recording is longer than I can take ({limit}). Could you record it in a few "
    "shorter parts? Nothing else has changed."
)
VOICE_NOT_HERE: Final = (
    "For this question, please use the buttons above. Your voice note was not kept."
)
VOICE_FAILED: Final = (
    "Sorry, I couldn't write down that voice note\n\n{reason}\n\n"
    "Your recording is kept safely. You can record it again, or type your answer instead."
)
STILL_TRANSCRIBING: Final = (
    "I am still writing down a voice note. Please wait a moment, then tap Send again."
)
