import type { stepUpFr } from './stepup.fr.ts';

export const stepUpEn: Record<keyof typeof stepUpFr, string> = {
  'stepUp.title': 'Confirm your identity',
  'stepUp.lead': 'This operation is sensitive: it needs a strong sign-in method, used less than {minutes} minutes ago.',
  'stepUp.password.lead': 'First type your password, then use your authenticator app, your approval phone or a recovery code.',
  'stepUp.password.submit': 'Continue',
  'stepUp.second.lead': 'Password checked. Finish with one of your strong methods:',
  'stepUp.none.title': 'You have no strong sign-in method yet',
  'stepUp.none.body': 'Add a passkey, an authenticator app or an approval phone from the “Account security” page.',
  'stepUp.coolingOff.title': 'Method too recent',
  'stepUp.coolingOff.body': 'For your security, a method added from a session that was not strongly authenticated allows sensitive operations only from {date}.',
  'stepUp.cancel': 'Cancel and go back to my account',
  'stepUp.continue.title': 'Identity confirmed',
  'stepUp.continue.body': 'You can now finish the operation you had started: what you had entered was kept.',
  'stepUp.continue.submit': 'Finish the operation',
  'confirm.title': 'Confirm with a code',
  'confirm.lead': 'For this operation, we send a code to your email address.',
  'secondStep.other': 'Other methods',
  'secondStep.emailCode': 'Receive a code by email',
};
