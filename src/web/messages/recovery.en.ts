import type { recoveryFr } from './recovery.fr.ts';

export const recoveryEn: Record<keyof typeof recoveryFr, string> = {
  'recovery.title': 'Forgotten password',
  'recovery.lead':
    'Enter your social security number. If an activated account matches, we will send a code to the email address on file so that you can choose a new password.',
  'recovery.submit': 'Get a code',
  'recovery.toActivation': 'Never signed in before? Activate your account',
  'recovery.toLogin': 'Remembered your password? Sign in',
  'recovery.throttled': 'For your security, new password requests from your connection are suspended until {time}. You can try again after that.',
  'recovery.choosePassword.title': 'Choose a new password',
  'recovery.choosePassword.lead':
    'Your email address is confirmed. Choose a new password. For your security, every session open on your account will be ended, on all your devices.',
};
