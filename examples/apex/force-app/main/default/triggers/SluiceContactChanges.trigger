/**
 * Sends Contacts changed in Salesforce to Sluice, after the transaction's DML, in a Queueable.
 *
 * Changes Sluice itself made (its integration user holds the Sluice_Integration custom
 * permission) are not sent back: Sluice already has them. Sluice would store them as unchanged
 * anyway; skipping them saves the callouts.
 */
trigger SluiceContactChanges on Contact (after insert, after update) {
    if (FeatureManagement.checkPermission('Sluice_Integration')) {
        return;
    }
    List<Id> changed = new List<Id>();
    for (Contact c : Trigger.new) {
        Contact old = Trigger.isUpdate ? (Contact) Trigger.oldMap.get(c.Id) : null;
        if (old == null || c.LastName != old.LastName || c.FirstName != old.FirstName
                || c.Email != old.Email || c.Phone != old.Phone || c.AccountId != old.AccountId) {
            changed.add(c.Id);
        }
    }
    if (!changed.isEmpty()) {
        // One job per trigger chunk of up to 200 records: one callout each.
        System.enqueueJob(new SluiceContactSync(changed));
    }
}
