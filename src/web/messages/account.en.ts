import type { accountFr } from './account.fr.ts';

export const accountEn: Record<keyof typeof accountFr, string> = {
  'account.title': 'My account',
  'account.security': 'Account security',
  'account.back': 'Back to my account',

  'security.title': 'Account security',
  'security.lead': 'Change your password and check the devices signed in to your account.',

  'security.password.title': 'Change your password',
  'security.password.lead':
    'First type your current password. Once the password is changed, your other sessions will be ended and you will receive a confirmation email.',
  'security.password.current': 'Current password',
  'security.password.wrongCurrent': 'The current password is incorrect.',
  'security.password.same': 'The new password must be different from the current one.',
  'security.password.notChanged': 'The password was not changed',
  'security.password.fix': 'Correct the fields shown and try again.',
  'security.password.throttled.title': 'Too many attempts',
  'security.password.throttled.body': 'For your security, password checks are suspended until {time}. You can try again then.',
  'security.password.recoveryRequired':
    'For your security, the current password of this account can no longer be used. Sign out, then choose a new password with “Forgotten password”.',
  'security.password.changed': 'Your password has been changed. Your other sessions have been ended.',

  'security.sessions.title': 'Open sessions',
  'security.sessions.lead': 'These are the devices signed in to your account. If you do not recognise one, end your other sessions, then change your password.',
  'security.sessions.device': 'Device',
  'security.sessions.startedAt': 'Started',
  'security.sessions.lastSeenAt': 'Last activity',
  'security.sessions.level': 'Security level',
  'security.sessions.current': 'This session',
  'security.sessions.browserOnOs': '{browser} on {os}',
  'security.sessions.unknownDevice': 'Unknown device',
  'security.sessions.endOthers': 'Sign out my other sessions',
  'security.sessions.noOthers': 'No other session is open on your account.',
  'security.sessions.ended': 'Your other sessions have been ended.',

  'security.level.eidas1': 'Low',
  'security.level.eidas2': 'Substantial',
  'security.level.eidas3': 'High',
};
