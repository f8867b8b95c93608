// Messages of the "Give feedback" form (English). Every key exists in each language
// (tests/unit/test_i18n_parity.py); the form loads only its page's language.
export default {
  loading: "Loading categories…",
  choose: "Choose a category",
  general: "{name} (general)",
  noCategories: "The categories could not be loaded: the feedback service cannot be reached. " +
    "Check your connection and try again, or come back later.",
  summary: "There is a problem",
  typeRequired: "Choose what kind of feedback this is.",
  categoryRequired: "Choose a category.",
  subjectRequired: "Enter a subject.",
  descriptionRequired: "Describe your feedback.",
  tooLong: "{label} must be {max} characters or fewer.",
  emailInvalid: "Enter an email address in the right format, like name@example.com.",
  phoneInvalid: "Enter a phone number with 6 to 20 digits. You can use +, spaces, dashes " +
    "and brackets.",
  remaining: "You have {n} characters remaining.",
  remainingOne: "You have 1 character remaining.",
  over: "You have {n} characters too many.",
  overOne: "You have 1 character too many.",
  sending: "Sending your feedback…",
  rejected: "The feedback could not be accepted: {message}",
  tooMany: "Too many submissions have come from your connection recently. Wait a few " +
    "minutes, then send the form again. Your answers are still here.",
  tooManyWait: "Too many submissions have come from your connection recently. Wait " +
    "{wait}, then send the form again. Your answers are still here.",
  waitSeconds: "{n} seconds",
  waitMinute: "1 minute",
  waitMinutes: "{n} minutes",
  unreachable: "Your feedback has not been sent: the feedback service cannot be reached. " +
    "Check your connection and send the form again. Your answers are still here.",
  serverError: "Your feedback has not been sent because of a problem on our side. Please " +
    "send the form again in a few minutes. Your answers are still here.",
  discarded: "Thank you for your feedback.",
  receiptTitle: "Thank you. Your feedback has been received",
  receiptIntro: "Keep this ticket number and private key. With them you can follow your " +
    "feedback, add information if we ask for it, and tell us whether you are satisfied.",
  number: "Ticket number",
  key: "Private key",
  received: "Received",
  firstResponse: "First response due by",
  resolution: "Resolution due by",
  copyNumber: "Copy ticket number",
  copyKey: "Copy private key",
  copiedNumber: "Ticket number copied.",
  copiedKey: "Private key copied.",
  copyFailed: "Could not copy automatically. The text is selected: press Ctrl+C (or Cmd+C).",
  warningTitle: "The private key is shown only once",
  warning: "We store only a scrambled form of the key, so nobody, including our staff, can " +
    "show it again or recover it if it is lost. Copy it, print this receipt or save the " +
    "tracking link. Anyone with both the number and the key can read this ticket's " +
    "history, so keep the key private.",
  track: "Track this ticket",
  trackHint: "The link contains your number and key: bookmark it only on a device you trust.",
  print: "Print receipt",
  uploadingPhotos: "Your feedback is received. Uploading your photos…",
  photosTitle: "Photos",
  photoAttached: "{name}: attached.",
  photoFailed: "{name}: not attached ({message}). You can add it from the tracking page.",
};
