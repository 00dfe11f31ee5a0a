import type { activationFr } from './activation.fr.ts';

export const activationEn: Record<keyof typeof activationFr, string> = {
  'activation.title': 'Activate your account',
  'activation.lead':
    'For your first sign-in, enter your social security number and your date of birth. We will send a code to the email address your agency has on file.',
  'activation.birthDate': 'Date of birth',
  'activation.birthDateHint': 'Expected format: DD/MM/YYYY',
  'activation.submit': 'Get a code',
  'activation.toLogin': 'Is your account already activated? Sign in',
  'activation.birthDate.required': 'Enter your date of birth.',
  'activation.birthDate.format': 'Enter the date of birth as DD/MM/YYYY, for example 14/07/1985.',
  'activation.birthDate.nonexistent': 'This date does not exist: check the day and the month.',
  'activation.birthDate.future': 'The date of birth cannot be in the future.',
  'activation.throttled': 'For your security, activation requests from your connection are suspended until {time}. You can try again after that.',
  'activation.choosePassword.title': 'Choose your password',
  'activation.choosePassword.lead':
    'Your email address is confirmed. Choose the password of your account: you will then sign in with your social security number and this password.',
};
