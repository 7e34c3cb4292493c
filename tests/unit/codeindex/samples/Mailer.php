<?php
namespace App\Mail;

use App\Models\User;

class Mailer
{
    private $from;

    public function __construct($from)
    {
        $this->from = $from;
    }

    // Send a welcome mail to a new user.
    public function sendWelcome(User $user)
    {
        return mail($user->email, "Welcome", "Hello", "From: " . $this->from);
    }
}

function format_address($name, $email)
{
    return "$name <$email>";
}
