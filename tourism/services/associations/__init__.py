"""Running an association: its dashboard, rosters of families and guides, invitations."""
